/**
 * The Ferry heartbeat on a hand-driven clock (no sleeping): it pings about every `intervalMs`,
 * keeps one timer armed at a time, closes a connection whose pong does not come within `timeoutMs`
 * with a `TimeoutError`, never pings a peer not known to be Ferry, and leaves no timer behind when
 * stopped or closed. Pings never reach the server's application handler.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TransportClient } from "../../src/client/transport-client.ts";
import { InvalidArgumentError, TimeoutError } from "../../src/errors.ts";
import {
  ferryHeartbeatBootstrap,
  HEARTBEAT_JITTER,
  startFerryHeartbeat,
} from "../../src/extensions/ferry-heartbeat.ts";
import { ferryPingResponder } from "../../src/extensions/ferry-ping.ts";
import type { BootstrapContext } from "../../src/pool/pool-options.ts";
import { MessageType } from "../../src/protocol/messages.ts";
import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import type { Clock } from "../../src/clock.ts";
import { RawPeer, serve, settle } from "../helpers/engine-fixtures.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";

const INTERVAL_MS = 1_000;
const TIMEOUT_MS = 500;
/** Past the longest jittered wait between pings. */
const ONE_INTERVAL = Math.ceil(INTERVAL_MS * (1 + HEARTBEAT_JITTER)) + 1;

function recordingHandler(): { handler: RpcHandler; calls: number[] } {
  const calls: number[] = [];
  return { calls, handler: { receive: (_client, message) => (calls.push(1), message) } };
}

const context = (features: string[]) =>
  ({ peerFeatures: new Set(features) }) as unknown as BootstrapContext;

test("a healthy peer is pinged about every interval, on the clock, one timer at a time", async () => {
  const clock = new FakeClock();
  const { handler, calls } = recordingHandler();
  const served = serve({ rpcHandler: handler, interceptor: ferryPingResponder });
  try {
    startFerryHeartbeat(served.client, { intervalMs: INTERVAL_MS, timeoutMs: TIMEOUT_MS, clock });
    assert.equal(clock.pendingTimers, 1, "the wait before the first ping");
    await settle();
    assert.equal(served.serverSide.stats().messagesReceived, 0, "nothing before the interval");
    for (let beat = 1; beat <= 3; beat++) {
      clock.advance(ONE_INTERVAL);
      assert.equal(clock.pendingTimers, 1, "the wait for the pong replaced the interval's");
      await settle();
      assert.equal(served.serverSide.stats().messagesReceived, beat, `ping ${beat} arrived`);
      assert.equal(clock.pendingTimers, 1, "the pong came: the next wait is armed");
    }
    assert.equal(served.client.isActive, true);
    assert.deepEqual(calls, [], "pings never reach the handler");
  } finally {
    await served.close();
  }
  assert.equal(clock.pendingTimers, 0, "closing the connection stops the heartbeat");
});

test("a peer that stops answering is closed with a TimeoutError after interval + timeout", async () => {
  const clock = new FakeClock();
  const [a, b] = memorySocketPair();
  const silent = new RawPeer(b); // codec only: the ping arrives, no pong ever comes back
  const client = new TransportClient(a);
  startFerryHeartbeat(client, { intervalMs: INTERVAL_MS, timeoutMs: TIMEOUT_MS, clock });
  clock.advance(ONE_INTERVAL);
  await silent.received(1);
  assert.equal(silent.messages[0]!.type, MessageType.RpcRequest);
  // The ping went out somewhere in the jittered window, so its pong is due at least this long
  // after now (the window's width is 2 × HEARTBEAT_JITTER × interval).
  clock.advance(TIMEOUT_MS - Math.ceil(2 * HEARTBEAT_JITTER * INTERVAL_MS) - 1);
  await settle();
  assert.equal(client.isActive, true, "not before the timeout");
  clock.advance(TIMEOUT_MS);
  const closed = await client.closed;
  assert.ok(closed.error instanceof TimeoutError, String(closed.error));
  assert.match(closed.error.message, /Heartbeat to .* failed: no pong within 500 ms/);
  assert.ok(closed.error.cause instanceof TimeoutError, "the pong wait's own error is the cause");
  assert.equal(clock.pendingTimers, 0, "nothing left armed");
  console.log(
    `heartbeat (fake clock): silent peer closed ${ONE_INTERVAL + TIMEOUT_MS} ms after the last ` +
      `pong at most (interval ${INTERVAL_MS} ± ${
        HEARTBEAT_JITTER * 100
      } % + timeout ${TIMEOUT_MS})`,
  );
});

test("the bootstrap pings only peers known to be Ferry; a wrong claim fails the connection", async () => {
  const clock = new FakeClock();
  // A Spark-like server: no ping responder, so a ping would reach (and be echoed by) its handler.
  const { handler, calls } = recordingHandler();
  const bootstrap = ferryHeartbeatBootstrap({
    intervalMs: INTERVAL_MS,
    timeoutMs: TIMEOUT_MS,
    clock,
  });
  const plain = serve({ rpcHandler: handler });
  const misconfigured = serve({ rpcHandler: handler });
  try {
    await bootstrap(plain.client, context([]));
    assert.equal(clock.armed, 0, "no heartbeat for a peer not known to be Ferry");
    await bootstrap(misconfigured.client, context(["ferry"]));
    assert.equal(clock.armed, 1);
    clock.advance(ONE_INTERVAL);
    // Told (wrongly) that this peer is Ferry: the echo is not a pong.
    const closed = await misconfigured.client.closed;
    assert.equal(calls.length, 1, "the one ping reached the Spark-like handler");
    assert.ok(closed.error instanceof TimeoutError);
    assert.match(closed.error.message, /expected a Ferry pong/);
    assert.equal(plain.client.isActive, true);
    assert.equal(plain.serverSide.stats().messagesReceived, 0, "the plain peer saw nothing");
    assert.equal(clock.pendingTimers, 0);
  } finally {
    await plain.close();
    await misconfigured.close();
  }
});

test("stop() disarms the heartbeat at once and for good", async () => {
  const clock = new FakeClock();
  const served = serve({ rpcHandler: recordingHandler().handler, interceptor: ferryPingResponder });
  try {
    const stop = startFerryHeartbeat(served.client, { intervalMs: INTERVAL_MS, clock });
    clock.advance(ONE_INTERVAL); // a ping in flight
    stop();
    assert.equal(clock.pendingTimers, 0);
    await settle();
    clock.advance(10 * ONE_INTERVAL);
    await settle();
    assert.equal(served.serverSide.stats().messagesReceived, 1, "no ping after stop()");
    assert.equal(clock.pendingTimers, 0);
    stop(); // idempotent
    assert.equal(served.client.isActive, true);
  } finally {
    await served.close();
  }
});

test("options are checked before anything starts", () => {
  const [a] = memorySocketPair();
  const client = new TransportClient(a);
  assert.throws(() => startFerryHeartbeat(client, { intervalMs: 0 }), InvalidArgumentError);
  assert.throws(() => ferryHeartbeatBootstrap({ timeoutMs: 1.5 }), /timeoutMs/);
  assert.throws(
    () => startFerryHeartbeat(client, { clock: {} as Clock }),
    /FerryHeartbeatOptions\.clock/,
  );
  client.close().catch(() => {});
});
