/**
 * The core knows none of Ferry's extensions: a bare `TransportServer` hands a ping, a cancel and a
 * chunk trace context to its `RpcHandler` like any other message (as a Spark server would), and
 * only a server whose interceptor includes `ferryResponder` answers and consumes them. The
 * responder's `cancelServing` is generic: any interceptor may call it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { InboundInterceptor } from "../../src/client/client-options.ts";
import { encodeCancel } from "../../src/extensions/ferry-cancel-message.ts";
import { ferryPing } from "../../src/extensions/ferry-ping.ts";
import { ferryResponder } from "../../src/extensions/ferry-responder.ts";
import { encodeChunkTraceContext } from "../../src/observability/chunk-trace-message.ts";
import { MessageType } from "../../src/protocol/messages.ts";
import { OneForOneStreamManager } from "../../src/responder/one-for-one-stream-manager.ts";
import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import { serve, settle, utf8 } from "../helpers/engine-fixtures.ts";

const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

function recordingHandler(): { handler: RpcHandler; seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    handler: {
      receive: (_client, body) => (seen.push(`rpc ${body.byteLength}`), body),
      receiveOneWay: (_client, body) => {
        seen.push(`one-way ${body.byteLength}`);
      },
    },
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await settle(1);
  assert.ok(condition(), `timed out waiting for ${what}`);
}

test("a bare server hands Ferry's messages to its handler; ferryResponder consumes them", async () => {
  for (const withResponder of [false, true]) {
    const { handler, seen } = recordingHandler();
    const served = serve({
      rpcHandler: handler,
      ...(withResponder ? { interceptor: ferryResponder } : {}),
    });
    try {
      const ping = ferryPing(served.client, { timeoutMs: 10_000 });
      if (withResponder) await ping;
      else await assert.rejects(ping, /expected a Ferry pong/); // the echo is not a pong
      served.client.send(encodeCancel({ kind: "chunk", streamId: 1, chunkIndex: 0 }));
      served.client.send(encodeChunkTraceContext(1, 0, TRACEPARENT));
      served.client.send(utf8("application"));
      await until(() => served.serverSide.stats().messagesReceived === 4, "four messages");
      await settle();
      assert.deepEqual(
        seen,
        withResponder
          ? ["one-way 11"] // only the application's own message
          : ["rpc 17", "one-way 21", "one-way 76", "one-way 11"],
      );
      assert.equal(served.serverSide.stats().cancelsReceived, withResponder ? 1 : 0);
    } finally {
      await served.close();
    }
  }
});

test("cancelServing is generic: any interceptor may stop a chunk being served", async () => {
  const manager = new OneForOneStreamManager();
  const pending: ((bytes: Uint8Array) => void)[] = [];
  // An application's own withdrawal message: a one-way "drop <chunk index>".
  const dropper: InboundInterceptor = (message, client) => {
    if (message.type !== MessageType.OneWayMessage) return false;
    const text = new TextDecoder().decode(message.body);
    if (!text.startsWith("drop ")) return false;
    client.cancelServing({ kind: "chunk", streamId: id, chunkIndex: Number(text.slice(5)) });
    return true;
  };
  const served = serve({
    rpcHandler: { receive: (_client, body) => body },
    streamManager: manager,
    interceptor: dropper,
  });
  const id = manager.registerStream(served.serverSide, {
    chunkCount: 2,
    getChunk: () => new Promise<Uint8Array>((resolve) => pending.push(resolve)),
  });
  try {
    const fetch = served.client.fetchChunk(id, 1, { timeoutMs: 60_000 }).catch((error) => error);
    await until(() => pending.length === 1, "the chunk being produced");
    assert.equal(served.server.chunksBeingTransferred, 1);
    served.client.send(utf8("drop 1"));
    await until(() => served.serverSide.stats().cancelsApplied === 1, "the drop applied");
    assert.equal(served.server.chunksBeingTransferred, 0, "its budget slot freed");
    pending[0]!(utf8("late"));
    await settle();
    assert.equal(served.client.stats().inFlight.chunkFetches, 1, "no reply was sent");
    await served.client.close();
    assert.ok((await fetch) instanceof Error);
  } finally {
    await served.close();
  }
});
