import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TransportClient } from "../../src/client/transport-client.ts";
import { OneForOneStreamManager } from "../../src/responder/one-for-one-stream-manager.ts";
import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import type { StreamManager } from "../../src/responder/stream-manager.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import {
  type ChecksSummary,
  formatResult,
  formatSummary,
  interopCheckNames,
  runInteropChecks,
} from "../../interop/checks.ts";
import {
  createInteropServer,
  createInteropStreamManager,
  InteropRpcHandler,
} from "../../interop/interop-handler.ts";
import { memoryNetwork } from "../helpers/memory-socket.ts";

const expectedNames = [
  "rpc-echo",
  "rpc-empty",
  "rpc-echo-4MiB",
  "rpc-failure",
  "rpc-concurrent-20",
  "one-way",
  "open-stream-reply-8-bytes",
  "fetch-chunks-3x1000",
  "fetch-chunks-pipelined-4x70000",
  "fetch-out-of-order-fails",
  "fetch-unknown-stream-fails",
  "stream-gen-100000",
  "stream-gen-0",
  "stream-registered-chunk",
  "stream-not-found",
  "upload-stream",
  "rpc-after-all",
];

/** Runs the 17 checks against `server` over an in-memory network; closes both afterwards. */
async function runAgainst(
  server: TransportServer,
  checkTimeoutMs = 10_000,
): Promise<ChecksSummary> {
  const network = memoryNetwork({ label: "interop" });
  await server.listen(network.listen);
  const client = await TransportClient.connect(network.connect);
  try {
    return await runInteropChecks(client, { checkTimeoutMs });
  } finally {
    await client.close();
    await server.close();
  }
}

function failures(summary: ChecksSummary): Map<string, string> {
  return new Map(
    summary.results.filter((r) => !r.passed).map((r) => [r.name, r.detail ?? ""]),
  );
}

/** A server whose RPC handler or stream manager is the interop one with one thing changed. */
function mutantServer(
  change: (handler: InteropRpcHandler) => Partial<RpcHandler>,
  streamManager: StreamManager & OneForOneStreamManager = createInteropStreamManager(),
): TransportServer {
  const handler = new InteropRpcHandler(streamManager);
  const rpcHandler: RpcHandler = {
    receive: (client, message) => handler.receive(client, message),
    receiveOneWay: (client, message) => handler.receiveOneWay(client, message),
    receiveStream: (client, meta, body) => handler.receiveStream(client, meta, body),
    channelInactive: (client) => handler.channelInactive(client),
    ...change(handler),
  };
  return new TransportServer({ rpcHandler, streamManager });
}

const decoder = new TextDecoder();

describe("interop checks over an in-memory network", () => {
  it("runs the 17 interop checks (docs/interop.md) in order, and the interop server passes them all", async () => {
    assert.deepEqual(interopCheckNames, expectedNames);
    const reported: string[] = [];
    const network = memoryNetwork({ label: "interop" });
    const server = createInteropServer();
    await server.listen(network.listen);
    const client = await TransportClient.connect(network.connect);
    const summary = await runInteropChecks(client, {
      checkTimeoutMs: 10_000,
      onResult: (result) => reported.push(formatResult(result)),
    });
    await client.close();
    await server.close();
    assert.deepEqual(reported, expectedNames.map((name) => `PASS ${name}`));
    assert.equal(formatSummary(summary), "17 passed, 0 failed");
  });

  it("fails exactly the gen: checks when the server does not serve gen:<size>", async () => {
    const summary = await runAgainst(mutantServer(() => ({}), new OneForOneStreamManager()));
    const failed = failures(summary);
    assert.deepEqual([...failed.keys()], ["stream-gen-100000", "stream-gen-0"]);
    assert.match(failed.get("stream-gen-0")!, /Stream 'gen:0' was not found\./);
    assert.equal(formatSummary(summary), "15 passed, 2 failed");
  });

  it("finds one corrupted byte in a 4 MiB echo", async () => {
    const summary = await runAgainst(mutantServer((handler) => ({
      receive(client, message) {
        const reply = handler.receive(client, message);
        if (reply.byteLength < 1_000_000) return reply;
        const copy = reply.slice();
        copy[3_000_000] = copy[3_000_000]! ^ 1;
        return copy;
      },
    })));
    const failed = failures(summary);
    assert.deepEqual([...failed.keys()], ["rpc-echo-4MiB"]);
    assert.match(
      failed.get("rpc-echo-4MiB")!,
      /^reply differs at byte 3000000: got \d+, expected \d+$/,
    );
  });

  it("catches one-way messages that are lost, and a wrong upload checksum", async () => {
    const summary = await runAgainst(mutantServer((handler) => ({
      receiveOneWay(client, message) {
        if (decoder.decode(message) !== "ping-oneway-2") handler.receiveOneWay(client, message);
      },
      async receiveStream(client, meta, body) {
        const reply = decoder.decode(await handler.receiveStream(client, meta, body));
        return new TextEncoder().encode(reply.replace(/:[0-9a-f]+$/, ":0"));
      },
    })));
    const failed = failures(summary);
    assert.deepEqual([...failed.keys()], ["one-way", "upload-stream"]);
    assert.match(failed.get("one-way")!, /oneway-log reply was "ping-oneway-1"/);
    assert.match(failed.get("upload-stream")!, /reply was "upload:up1:50000:0", expected/);
  });

  it("ends a check whose reply never comes at its deadline, and goes on", async () => {
    const summary = await runAgainst(
      mutantServer((handler) => ({
        receive(client, message) {
          if (decoder.decode(message) === "hello") return new Promise<Uint8Array>(() => {});
          return handler.receive(client, message);
        },
      })),
      300,
    );
    const failed = failures(summary);
    assert.deepEqual([...failed.keys()], ["rpc-echo"]);
    assert.match(failed.get("rpc-echo")!, /TimeoutError/);
  });
});
