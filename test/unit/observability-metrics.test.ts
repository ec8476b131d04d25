/**
 * Ferry's OpenTelemetry metrics, read back through the SDK's own reader: with an SDK registered,
 * traffic over a server and a client moves the request histograms (by message type and outcome),
 * the byte counters and the connection counters; without one, no connection gets a tap (the
 * per-message cost is one `undefined` check). The tap's memory is bounded.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { metrics } from "@opentelemetry/api";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { TransportClient } from "../../src/client/transport-client.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { OneForOneStreamManager } from "../../src/responder/one-for-one-stream-manager.ts";
import { observeConnection, observeConnectionEnded } from "../../src/observability/observe.ts";
import { ConnectionTap } from "../../src/observability/connection-tap.ts";
import { installFerryEventSink } from "../../src/observability/event-sink.ts";
import { currentInstruments } from "../../src/observability/instruments.ts";
import { MessageType } from "../../src/protocol/messages.ts";
import { defaultLimits } from "../../src/limits.ts";
import { ferryPingResponder } from "../../src/extensions/ferry-ping.ts";
import { startFerryHeartbeat } from "../../src/extensions/ferry-heartbeat.ts";
import { memoryNetwork } from "../helpers/memory-socket.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

class ManualReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

interface Point {
  readonly attributes: Record<string, unknown>;
  readonly value: unknown;
}

async function points(reader: MetricReader, name: string): Promise<Point[]> {
  const { resourceMetrics } = await reader.collect();
  const out: Point[] = [];
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue;
      for (const point of metric.dataPoints) {
        out.push({ attributes: point.attributes, value: point.value });
      }
    }
  }
  return out;
}

function count(found: Point[], attributes: Record<string, unknown>): number {
  let total = 0;
  for (const point of found) {
    if (!Object.entries(attributes).every(([k, v]) => point.attributes[k] === v)) continue;
    const value = point.value as number | { count: number };
    total += typeof value === "number" ? value : value.count;
  }
  return total;
}

test("without an SDK or a subscriber a connection gets no tap", () => {
  const client = { stats: () => ({ bytesReceived: 0, bytesSent: 0 }) };
  const tap = observeConnection(client, { transport: "memory", remoteAddress: "nowhere" });
  assert.equal(tap, undefined);
  observeConnectionEnded(client, { error: undefined });
});

test("with an SDK, requests, bytes and connections are measured on both sides", async () => {
  const reader = new ManualReader();
  const provider = new MeterProvider({ readers: [reader] });
  assert.ok(metrics.setGlobalMeterProvider(provider));
  try {
    const network = memoryNetwork({ label: "metrics" });
    const streams = new OneForOneStreamManager();
    const server = new TransportServer({
      rpcHandler: { receive: (_client, body) => body },
      streamManager: streams,
    });
    await server.listen(network.listen);
    const client = await TransportClient.connect(network.connect);
    const [serverSide] = [...server.connections];
    const streamId = streams.registerStream(serverSide!, {
      chunkCount: 2,
      getChunk: (index: number) => new Uint8Array(1000 + index),
    });
    for (let i = 0; i < 3; i++) await client.sendRpc(new Uint8Array(10));
    assert.equal((await client.fetchChunk(streamId, 1)).byteLength, 1001);
    await assert.rejects(client.fetchChunk(streamId, 5));
    client.send(new Uint8Array(3));

    const clientSide = await points(reader, "rpc.client.duration");
    assert.equal(count(clientSide, { "rpc.method": "RpcRequest" }), 3);
    assert.equal(count(clientSide, { "rpc.method": "ChunkFetchRequest" }), 2);
    assert.equal(
      count(clientSide, { "rpc.method": "ChunkFetchRequest", "error.type": "ChunkFetchFailure" }),
      1,
    );
    assert.equal(count(clientSide, { "rpc.method": "OneWayMessage" }), 1);
    const serverSideTimes = await points(reader, "rpc.server.duration");
    assert.equal(count(serverSideTimes, { "rpc.method": "RpcRequest", "rpc.system": "ferry" }), 3);
    assert.equal(
      count(serverSideTimes, {
        "rpc.method": "ChunkFetchRequest",
        "error.type": "ChunkFetchFailure",
      }),
      1,
    );
    const io = await points(reader, "ferry.network.io");
    const received = count(io, {
      "ferry.connection.role": "client",
      "network.io.direction": "receive",
    });
    assert.ok(received > 1001, `client received ${received} bytes`);
    const opened = await points(reader, "ferry.connection.opened");
    assert.equal(
      count(opened, { "ferry.connection.role": "client", "network.transport": "memory" }),
      1,
    );
    assert.equal(count(opened, { "ferry.connection.role": "server" }), 1);
    const active = await points(reader, "ferry.connection.active");
    assert.equal(count(active, {}), 2);
    // The server's admission budgets, with their limits (defaults from src/limits.ts).
    assert.equal(
      count(await points(reader, "ferry.server.reply_memory.limit"), {}),
      defaultLimits.maxReplyBytes,
    );
    assert.equal(
      count(await points(reader, "ferry.server.transfers.limit"), {}),
      defaultLimits.maxChunksBeingTransferred,
    );
    assert.equal(count(await points(reader, "ferry.server.transfers.active"), {}), 0);

    await client.close();
    await server.close();
    const closed = await points(reader, "ferry.connection.closed");
    assert.equal(count(closed, {}), 2);
    assert.equal(count(await points(reader, "ferry.connection.active"), {}), 0);
    // The bytes of ended connections are kept: the counter never goes backwards.
    const after = count(await points(reader, "ferry.network.io"), {
      "ferry.connection.role": "client",
      "network.io.direction": "receive",
    });
    assert.ok(after >= received, `${after} ≥ ${received}`);
  } finally {
    metrics.disable();
    await provider.shutdown();
  }
});

test("a tap remembers at most its limit of requests per side, ending the oldest", () => {
  const instruments = { ...currentInstruments(), active: false };
  const tap = new ConnectionTap(
    { role: "client", transport: "memory", remoteAddress: "peer" },
    instruments,
    2,
  );
  for (let id = 1; id <= 5; id++) {
    tap.sent({ type: MessageType.RpcRequest, requestId: id, body: new Uint8Array(0) });
  }
  assert.equal(tap.outbound.size, 2);
  assert.deepEqual([...tap.outbound.keys()], [4, 5]);
  tap.received({ type: MessageType.RpcResponse, requestId: 5, body: new Uint8Array(0) });
  assert.deepEqual([...tap.outbound.keys()], [4]);
  tap.close("ERR_CONNECTION_CLOSED");
  assert.equal(tap.outbound.size, 0);
});

test("a sink whose publish throws never breaks a connection", async () => {
  let published = 0;
  installFerryEventSink({
    channel: () => ({
      hasSubscribers: true,
      publish: () => {
        published++;
        throw new Error("a broken subscriber");
      },
    }),
  });
  try {
    const network = memoryNetwork({ label: "throwing-sink" });
    const server = new TransportServer({ rpcHandler: { receive: (_client, body) => body } });
    await server.listen(network.listen);
    const client = await TransportClient.connect(network.connect);
    assert.deepEqual(await client.sendRpc(Uint8Array.of(1, 2)), Uint8Array.of(1, 2));
    await client.close();
    await server.close();
    assert.ok(published >= 6, `published ${published}`);
  } finally {
    installFerryEventSink(undefined);
  }
});

test("heartbeat round trips are measured", async () => {
  const reader = new ManualReader();
  const provider = new MeterProvider({ readers: [reader] });
  assert.ok(metrics.setGlobalMeterProvider(provider));
  try {
    const network = memoryNetwork({ label: "heartbeat-metrics" });
    const server = new TransportServer({
      rpcHandler: { receive: (_client, body) => body },
      interceptor: ferryPingResponder,
    });
    await server.listen(network.listen);
    const client = await TransportClient.connect(network.connect);
    // The heartbeat's timers run on a hand-driven clock: each advance sends one ping.
    const clock = new FakeClock();
    const stop = startFerryHeartbeat(client, { intervalMs: 5, timeoutMs: 10_000, clock });
    let beats = 0;
    for (let i = 0; i < 400 && beats < 2; i++) {
      clock.advance(10);
      await new Promise((resolve) => setTimeout(resolve, 0));
      beats = count(await points(reader, "ferry.heartbeat.rtt"), {});
    }
    stop();
    await client.close();
    await server.close();
    assert.ok(beats >= 2, `heartbeats measured: ${beats}`);
  } finally {
    metrics.disable();
    await provider.shutdown();
  }
});
