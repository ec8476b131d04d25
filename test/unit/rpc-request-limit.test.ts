/**
 * A handler's own request limit becomes its connections' request frame limit: a `ServiceRouter`
 * declares `maxServiceRequestBytes` (`RpcHandler.maxRequestBytes`), so a larger request is skipped
 * as it arrives (never buffered, never seen by the router) and refused with an RpcFailure naming
 * `maxServiceRequestBytes`; the connection goes on. A router whose fallback declares no limit
 * receives requests up to the frame limit and refuses typed ones by size itself.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RemoteError } from "../../src/errors.ts";
import {
  decodeServiceReply,
  defineService,
  method,
  RpcErrorCode,
  serviceClient,
  ServiceRouter,
} from "../../src/rpc/mod.ts";
import { SERVICE_REQUEST_MAGIC } from "../../src/rpc/rpc-envelope.ts";
import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import { serve } from "../helpers/engine-fixtures.ts";

const KiB = 1024;
const greeter = defineService("test.greeter", {
  hello: method<{ name: string }, string>(),
});
const implementation = { hello: ({ name }: { name: string }) => `hello ${name}` };

/** A typed-service request body of `size` bytes (the prefix, then zeros). */
function serviceRequest(size: number): Uint8Array {
  const body = new Uint8Array(size);
  body.set(SERVICE_REQUEST_MAGIC);
  return body;
}

test("a request over a router's maxServiceRequestBytes is skipped unread and refused by name", async () => {
  let seen = 0;
  const router = new ServiceRouter({ maxServiceRequestBytes: 64 * KiB }).serve(greeter, {
    hello: (params) => {
      seen++;
      return implementation.hello(params);
    },
  });
  assert.equal(router.maxRequestBytes, 64 * KiB);
  const served = serve({ rpcHandler: router });
  try {
    await assert.rejects(
      served.client.sendRpc(serviceRequest(100 * KiB)),
      (error: unknown) =>
        error instanceof RemoteError && /LimitError/.test(error.message) &&
        /RpcRequest body of 102400 bytes is over maxServiceRequestBytes \(65536 bytes\)/.test(
          error.message,
        ),
    );
    served.client.send(serviceRequest(100 * KiB)); // one-way: no reply, dropped and counted
    const greet = serviceClient(greeter, served.client);
    assert.equal(await greet.hello({ name: "next" }), "hello next");
    assert.equal(seen, 1, "only the small call reached the implementation");
    assert.equal(served.serverSide.stats().oversizedFrames, 2);
    assert.ok(served.serverSide.isActive);
  } finally {
    await served.close();
  }
});

test("with a fallback that declares no limit, the router refuses typed requests by size itself", async () => {
  const fallback: RpcHandler = { receive: (_client, body) => body };
  const router = new ServiceRouter({ maxServiceRequestBytes: 64 * KiB, fallback })
    .serve(greeter, implementation);
  assert.equal(router.maxRequestBytes, undefined);
  const served = serve({ rpcHandler: router });
  try {
    const reply = decodeServiceReply(await served.client.sendRpc(serviceRequest(100 * KiB)), "x");
    assert.equal(!reply.ok && reply.code, RpcErrorCode.Limit);
    // Bulk bytes for the fallback are not held to the typed-service limit.
    const bulk = new Uint8Array(200 * KiB).fill(7);
    assert.deepEqual(await served.client.sendRpc(bulk), bulk);
    assert.equal(served.serverSide.stats().oversizedFrames, 0);
  } finally {
    await served.close();
  }
});

test("a fallback's own limit, when larger, is the router's", () => {
  const fallback: RpcHandler = {
    receive: (_client, body) => body,
    maxRequestBytes: 512 * KiB,
    maxRequestBytesName: "maxBulkBytes",
  };
  const larger = new ServiceRouter({ maxServiceRequestBytes: 64 * KiB, fallback });
  assert.equal(larger.maxRequestBytes, 512 * KiB);
  assert.equal(larger.maxRequestBytesName, "maxBulkBytes");
  const smaller = new ServiceRouter({ maxServiceRequestBytes: 1024 * KiB, fallback });
  assert.equal(smaller.maxRequestBytes, 1024 * KiB);
  assert.equal(smaller.maxRequestBytesName, "maxServiceRequestBytes");
});
