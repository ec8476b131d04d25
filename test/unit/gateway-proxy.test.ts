/**
 * What the gateway forwards and what it does not, in memory: MergedBlockMetaRequest both ways
 * (success and the backend's failure text verbatim), requests the backend sends towards the
 * browser (refused by the gateway's backend client, never reaching the page), concurrent
 * identical chunk fetches, and the per-target session cap (1013).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RemoteError } from "../../src/errors.ts";
import { GatewayCloseCode } from "../../src/gateway/close-codes.ts";
import { type Message, MessageType } from "../../src/protocol/messages.ts";
import type { TransportClient } from "../../src/client/transport-client.ts";
import { memoryGateway } from "../helpers/gateway-fixture.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);

describe("gateway proxying (memory)", () => {
  it("forwards MergedBlockMetaRequest and maps its reply to the browser's request id", async () => {
    const fixture = await memoryGateway({}, {
      interceptor: (message, client) => {
        if (message.type !== MessageType.MergedBlockMetaRequest || message.reduceId < 0) {
          return false;
        }
        client.sendMessage({
          type: MessageType.MergedBlockMetaSuccess,
          requestId: message.requestId,
          numChunks: message.reduceId + 1,
          body: utf8(`${message.appId}/${message.shuffleId}/${message.shuffleMergeId}`),
        });
        return true;
      },
    });
    try {
      const { client } = fixture.client();
      const [a, b] = await Promise.all([
        client.sendMergedBlockMetaRequest("app-1", 3, 4, 5),
        client.sendMergedBlockMetaRequest("app-2", 6, 7, 8),
      ]);
      assert.equal(a.numChunks, 6);
      assert.deepEqual(a.body, utf8("app-1/3/4"));
      assert.equal(b.numChunks, 9);
      assert.deepEqual(b.body, utf8("app-2/6/7"));
      await assert.rejects(client.sendMergedBlockMetaRequest("app-3", 1, 1, -1), (error) => {
        assert.ok(error instanceof RemoteError);
        assert.match(error.remoteMessage, /MergedBlockMetaRequest/);
        return true;
      });
      await client.close();
    } finally {
      await fixture.close();
    }
  });

  it("requests the backend sends are refused by the gateway and never reach the browser", async () => {
    let backendCall: Promise<unknown> | undefined;
    const fixture = await memoryGateway({}, {
      interceptor: (message, client: TransportClient) => {
        if (message.type !== MessageType.RpcRequest) return false;
        if (new TextDecoder().decode(message.body) !== "call-me-back") return false;
        backendCall = client.sendRpc(utf8("hello browser")).then(
          () => "answered",
          (error) => error,
        );
        client.sendMessage({
          type: MessageType.RpcResponse,
          requestId: message.requestId,
          body: utf8("ok"),
        });
        return true;
      },
    });
    try {
      const { client } = fixture.client();
      const seen: Message[] = [];
      client.setInterceptor((message) => {
        seen.push(message);
        return false;
      });
      assert.deepEqual(await client.sendRpc(utf8("call-me-back")), utf8("ok"));
      const outcome = await backendCall;
      assert.ok(outcome instanceof RemoteError, `backend request outcome: ${String(outcome)}`);
      assert.deepEqual(seen.map((message) => message.type), [MessageType.RpcResponse]);
      await client.close();
    } finally {
      await fixture.close();
    }
  });

  it("identical chunk fetches in flight at once each get their reply", async () => {
    const fixture = await memoryGateway();
    try {
      const { client } = fixture.client();
      const reply = await client.sendRpc(utf8("open:1:1000"));
      const streamId = new DataView(reply.buffer, reply.byteOffset).getBigInt64(0);
      const results = await Promise.allSettled([
        client.fetchChunk(streamId, 0),
        client.fetchChunk(streamId, 0),
      ]);
      // The backend serves chunk 0 once (in-order stream) and fails the repeat; both settle.
      assert.equal(results.length, 2);
      assert.ok(results.some((result) => result.status === "fulfilled"));
      assert.ok(client.isActive);
      await client.close();
    } finally {
      await fixture.close();
    }
  });

  it("caps sessions per target with 1013", async () => {
    const fixture = await memoryGateway();
    await fixture.close();
    const capped = await memoryGateway({
      targets: {
        interop: { connect: () => Promise.reject(new Error("never used")), maxSessions: 1 },
      },
    });
    try {
      const first = capped.open();
      const second = capped.open({ remoteAddress: "198.51.100.9:1" });
      assert.equal(first.edge.closeCode, undefined);
      assert.equal(second.edge.closeCode, GatewayCloseCode.TryAgainLater);
      assert.equal(capped.gateway.stats().refusals["target-cap"], 1);
      assert.deepEqual(capped.gateway.stats().targets, { interop: 1 });
    } finally {
      await capped.close();
    }
  });
});
