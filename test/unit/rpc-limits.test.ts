/**
 * Typed services under limits (issue 15, item 5) over an in-memory connection: requests over the
 * router's size limit are skipped by the connection and get an RpcFailure naming it (or, behind a
 * fallback without a limit, an ERR_RPC_LIMIT reply), requests over its decode limits an
 * ERR_RPC_LIMIT reply naming the limit, and the connection keeps serving; failure replies quote peer input only as short excerpts; the client decodes
 * replies under limits too; handler failures are logged a few lines per interval, the rest counted.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TransportClient } from "../../src/client/transport-client.ts";
import { LimitError, PayloadError, RemoteError } from "../../src/errors.ts";
import { HandlerErrorLog } from "../../src/responder/handler-error-log.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import {
  decodeServiceReply,
  defineService,
  encodeServiceFailure,
  encodeServiceRequest,
  encodeServiceSuccess,
  method,
  RpcErrorCode,
  serviceClient,
  ServiceRouter,
  type ServiceRouterOptions,
} from "../../src/rpc/mod.ts";
import { SERVICE_REQUEST_MAGIC } from "../../src/rpc/rpc-envelope.ts";
import { encodePayload } from "../../src/rpc/rpc-codec.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

const echo = defineService("limits.echo", {
  echo: method<unknown, unknown>(),
  checked: method<{ n: number }, number>({
    params: (value) => {
      throw new TypeError(`expected {n: number}, got ${JSON.stringify(value)}`);
    },
  }),
});

function serve(options: ServiceRouterOptions = {}) {
  const router = new ServiceRouter(options).serve(echo, {
    echo: (value) => value,
    checked: ({ n }) => n,
  });
  const server = new TransportServer({ rpcHandler: router });
  const [a, b] = memorySocketPair();
  server.accept(b);
  const client = new TransportClient(a);
  return {
    client,
    server,
    api: serviceClient(echo, client),
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

/** The failure a raw request body gets. */
async function failureOf(client: TransportClient, body: Uint8Array) {
  const replyBody = await client.sendRpc(body);
  const reply = decodeServiceReply(replyBody, "a raw request");
  assert.equal(reply.ok, false, "expected a failure reply");
  return { ...(reply as { code: string; message: string }), bytes: replyBody.byteLength };
}

function withPrefix(payload: Uint8Array): Uint8Array {
  const body = new Uint8Array(SERVICE_REQUEST_MAGIC.byteLength + payload.byteLength);
  body.set(SERVICE_REQUEST_MAGIC);
  body.set(payload, SERVICE_REQUEST_MAGIC.byteLength);
  return body;
}

test("a request over maxServiceRequestBytes is refused by its size; the next call succeeds", async () => {
  const big = encodeServiceRequest("limits.echo", "echo", new Uint8Array(5000));
  // The router declares its limit to the connection, which skips the request unread and answers
  // with an RpcFailure naming it.
  const strict = serve({ maxServiceRequestBytes: 4096 });
  try {
    await assert.rejects(
      strict.client.sendRpc(big),
      (error: unknown) =>
        error instanceof RemoteError &&
        /RpcRequest body of 5\d{3} bytes is over maxServiceRequestBytes \(4096 bytes\)/.test(
          error.message,
        ),
    );
    assert.equal(await strict.api.echo("still serving"), "still serving");
  } finally {
    await strict.close();
  }
  // With a fallback that takes any size, the router receives it and refuses it by size itself.
  const fallback = { receive: (_client: unknown, body: Uint8Array) => body };
  const lax = serve({ maxServiceRequestBytes: 4096, fallback });
  try {
    const failure = await failureOf(lax.client, big);
    assert.equal(failure.code, RpcErrorCode.Limit);
    assert.match(failure.message, /of 5\d{3} bytes: over maxServiceRequestBytes \(4096\)/);
    assert.equal(await lax.api.echo("still serving"), "still serving");
  } finally {
    await lax.close();
  }
});

test("container-header bombs get ERR_RPC_LIMIT naming the limit; the connection survives", async () => {
  const { client, api, close } = serve();
  try {
    // [service, method, params] whose params is an array32 announcing 4 G items, nested.
    const payload = new Uint8Array(18 + 5 * 1000);
    payload.set([0x93, 0xab, ...new TextEncoder().encode("limits.echo"), 0xa4]);
    payload.set(new TextEncoder().encode("echo"), 14);
    for (let i = 18; i + 5 <= payload.byteLength; i += 5) {
      payload.set([0xdd, 0xff, 0xff, 0xff, 0xff], i);
    }
    const failure = await failureOf(client, withPrefix(payload));
    assert.equal(failure.code, RpcErrorCode.Limit);
    assert.match(failure.message, /maxServiceElements \(262144\)/);
    const deep = await failureOf(
      client,
      encodeServiceRequest("limits.echo", "echo", JSON.parse("[".repeat(70) + "]".repeat(70))),
    );
    assert.equal(deep.code, RpcErrorCode.Limit);
    assert.match(deep.message, /maxServiceDepth \(64\)/);
    const truncated = await failureOf(
      client,
      encodeServiceRequest("limits.echo", "echo", [1, 2, 3]).subarray(0, 20),
    );
    assert.equal(truncated.code, RpcErrorCode.BadRequest);
    assert.deepEqual(await api.echo({ fine: [1, 2, 3] }), { fine: [1, 2, 3] });
  } finally {
    await close();
  }
});

test("an unknown service name of 8 MiB gets a reply of a few hundred bytes", async () => {
  const name = "s".repeat(8 * 1024 * 1024);
  // Under the default request limit the size refuses it; above it, the name is quoted cut short.
  for (const options of [{}, { maxServiceRequestBytes: 16 * 1024 * 1024 }]) {
    const { client, api, close } = serve(options);
    try {
      const request = encodeServiceRequest(name, "m", null);
      if (options.maxServiceRequestBytes !== undefined) {
        const failure = await failureOf(client, request);
        console.log(
          `unknown service name of 8 MiB (${JSON.stringify(options)}): ${failure.code}, reply ` +
            `${failure.bytes} bytes`,
        );
        assert.ok(failure.bytes < 1024, `reply of ${failure.bytes} bytes`);
        assert.equal(failure.code, RpcErrorCode.UnknownService);
        assert.match(failure.message, /^Unknown service "s{64}"… \(8388608 characters\)/);
      } else {
        // Over the default request limit: skipped unread by the connection, an RpcFailure.
        const error = await client.sendRpc(request).then(() => undefined, (e: unknown) => e);
        assert.ok(error instanceof RemoteError, String(error));
        console.log(`unknown service name of 8 MiB (default limits): ${error.message}`);
        assert.ok(error.message.length < 1024, `a failure of ${error.message.length} characters`);
        assert.match(error.message, /over maxServiceRequestBytes \(8388608 bytes\)/);
      }
      const unknownMethod = await failureOf(
        client,
        encodeServiceRequest("limits.echo", "m".repeat(100_000), null),
      );
      assert.equal(unknownMethod.code, RpcErrorCode.UnknownMethod);
      assert.ok(unknownMethod.bytes < 1024);
      assert.match(unknownMethod.message, /\(100000 characters\)/);
      assert.equal(await api.echo(1), 1);
    } finally {
      await close();
    }
  }
});

test("check failures and malformed requests quote excerpts of the peer's values", async () => {
  const { client, api, close } = serve();
  try {
    // The check quotes the whole value it refused; the reply carries 256 characters of it.
    const error = await api.checked({ n: "x".repeat(1_000_000) } as never).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(error instanceof RemoteError);
    assert.equal(error.remoteCode, RpcErrorCode.BadRequest);
    assert.ok(error.remoteMessage.length < 400, `${error.remoteMessage.length} characters`);
    assert.match(error.remoteMessage, /… \(\d+ characters\)$/);
    // Not [service, method, params]: an object of 100 000 keys is described by its size.
    const keys: Record<string, number> = {};
    for (let i = 0; i < 100_000; i++) keys[`key-${"k".repeat(50)}-${i}`] = i;
    const described = await failureOf(client, withPrefix(encodePayload(keys, "keys")));
    assert.equal(described.code, RpcErrorCode.BadRequest);
    assert.ok(described.bytes < 1024, `reply of ${described.bytes} bytes`);
    assert.match(described.message, /an object with 100000 keys \["key-k{16}"… \(\d+ characters\)/);
  } finally {
    await close();
  }
});

test("the client decodes replies under limits and quotes failure messages as excerpts", async () => {
  const replies: Uint8Array[] = [];
  const target = { sendRpc: () => Promise.resolve(replies.shift()!) };
  const api = serviceClient(echo, target, { maxServiceElements: 100 });
  replies.push(encodeServiceSuccess(new Array(100).fill(0), "r"));
  await assert.rejects(api.echo(null), (e: LimitError) => {
    assert.ok(e instanceof LimitError);
    assert.match(e.message, /the reply to limits\.echo\.echo.*maxServiceElements \(100\)/);
    return true;
  });
  const bomb = new Uint8Array(1 + 5 * 1000);
  bomb[0] = 0x92;
  for (let i = 1; i + 5 <= bomb.byteLength; i += 5) bomb.set([0xdf, 0xff, 0xff, 0xff, 0xff], i);
  replies.push(bomb);
  await assert.rejects(api.echo(null), LimitError);
  replies.push(Uint8Array.of(0x92, 0x00));
  await assert.rejects(api.echo(null), PayloadError);
  const long = "e".repeat(1_000_000);
  replies.push(encodeServiceFailure("E_LONG", long));
  const error = await api.echo(null).then(() => undefined, (e) => e);
  assert.ok(error instanceof RemoteError);
  assert.equal(error.remoteMessage, long);
  assert.ok(error.message.length < 400, `${error.message.length} characters`);
  assert.throws(() => serviceClient(echo, target, { maxServiceDepth: -1 }), /maxServiceDepth/);
});

test("HandlerErrorLog writes N lines per interval, then one summary; close leaves no timer", () => {
  const clock = new FakeClock();
  const lines: string[] = [];
  const log = new HandlerErrorLog({
    lines: 3,
    intervalMs: 1000,
    clock,
    write: (line) => lines.push(line),
  });
  const failure = new TypeError("bad\nthing " + "x".repeat(10_000));
  for (let i = 0; i < 50; i++) log.report(failure, `RpcHandler.receiveOneWay`);
  assert.equal(lines.length, 3);
  assert.equal(clock.pendingTimers, 1);
  assert.match(lines[0]!, /^ferry: RpcHandler\.receiveOneWay failed: TypeError: bad ⏎ thing x+… /);
  assert.ok(lines.every((line) => line.length < 400 && !line.includes("\n")));
  clock.advance(1000);
  assert.equal(lines.length, 4);
  assert.match(
    lines[3]!,
    /^ferry: … 47 more handler failures suppressed \(at most 3 lines per 1000/,
  );
  assert.equal(clock.pendingTimers, 0);
  assert.deepEqual(log.stats, { reported: 50, logged: 3, suppressed: 47 });
  // The next interval starts with lines of its own; close writes the summary and disarms.
  for (let i = 0; i < 5; i++) log.report("plain string", "StreamManager.chunkSent");
  assert.equal(lines.length, 7);
  assert.equal(clock.pendingTimers, 1);
  log.close();
  assert.equal(clock.pendingTimers, 0);
  assert.match(lines[7]!, /… 2 more handler failures suppressed/);
  log.report("after", "x");
  log.close();
  assert.equal(clock.pendingTimers, 0);
});

test("a server's default reporter: 10 000 failing one-way messages, at most 11 lines", async () => {
  const router = new ServiceRouter().serve(echo, { echo: (v) => v, checked: ({ n }) => n });
  const server = new TransportServer({ rpcHandler: router });
  const [a, b] = memorySocketPair();
  const served = server.accept(b);
  const client = new TransportClient(a);
  const warn = console.warn;
  const lines: string[] = [];
  console.warn = (...args: unknown[]) => void lines.push(args.join(" "));
  try {
    for (let i = 0; i < 10_000; i++) client.send(Uint8Array.of(1, 2, 3));
    await client.sendRpc(encodeServiceRequest("limits.echo", "echo", 1));
    assert.equal(served.stats().handlerErrors, 10_000);
    await client.close();
    await server.close();
  } finally {
    console.warn = warn;
  }
  console.log(
    `10 000 failing one-way messages: ${lines.length} lines, ${
      JSON.stringify(server.handlerErrors)
    }`,
  );
  assert.ok(lines.length <= 11, `${lines.length} lines`);
  assert.equal(server.handlerErrors.reported, 10_000);
  assert.equal(server.handlerErrors.logged + server.handlerErrors.suppressed, 10_000);
  assert.match(lines.at(-1)!, /more handler failures suppressed/);
});

test("a server given its own onHandlerError gets every failure, counted; bad limits are refused", async () => {
  const seen: string[] = [];
  const router = new ServiceRouter().serve(echo, { echo: (v) => v, checked: ({ n }) => n });
  const server = new TransportServer({
    rpcHandler: router,
    onHandlerError: (_error, context) => seen.push(context),
  });
  const [a, b] = memorySocketPair();
  server.accept(b);
  const client = new TransportClient(a);
  try {
    for (let i = 0; i < 50; i++) client.send(Uint8Array.of(1));
    await client.sendRpc(encodeServiceRequest("limits.echo", "echo", 1));
    assert.equal(seen.length, 50);
    assert.deepEqual(server.handlerErrors, { reported: 50, logged: 0, suppressed: 0 });
  } finally {
    await client.close();
    await server.close();
  }
  for (const bad of [0, -1, 1.5, "8"]) {
    assert.throws(
      () => new ServiceRouter({ maxServiceRequestBytes: bad as number }),
      /ServiceRouterOptions\.maxServiceRequestBytes: expected an integer ≥ 1/,
    );
    assert.throws(
      () => new ServiceRouter({ maxServiceElements: bad as number }),
      /ServiceRouterOptions\.maxServiceElements: expected an integer ≥ 1/,
    );
  }
});
