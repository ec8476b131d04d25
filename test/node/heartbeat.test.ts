/**
 * The Ferry ⇄ Ferry heartbeat detects a half-open connection within interval + timeout: a fault
 * proxy switches a healthy, idle connection to blackhole (both sockets stay open, nothing gets
 * through), and the client closes it with a `TimeoutError`. Pings never reach the application's
 * handler. The heartbeat's timers run on a FakeClock (no sleeping); the network is real. What a
 * peer not known to be Ferry sees, and the other timing rules, are in
 * `test/unit/ferry-heartbeat.test.ts`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tcpConnect, tcpListen } from "../../adapters/node/tcp.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { ConnectionClosedError, TimeoutError } from "../../src/errors.ts";
import { HEARTBEAT_JITTER, startFerryHeartbeat } from "../../src/extensions/ferry-heartbeat.ts";
import { ferryPingResponder } from "../../src/extensions/ferry-ping.ts";
import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { FaultProxy } from "../helpers/fault-proxy.ts";
import { utf8 } from "../helpers/engine-fixtures.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

const INTERVAL_MS = 200;
const TIMEOUT_MS = 300;
/** Past the longest jittered wait between pings. */
const ONE_INTERVAL = Math.ceil(INTERVAL_MS * (1 + HEARTBEAT_JITTER)) + 1;

/** Waits (on real I/O) until `condition` holds, for up to 10 s: generous, so load cannot trip it. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const giveUpAt = performance.now() + 10_000;
  while (!condition() && performance.now() < giveUpAt) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  assert.ok(condition(), `timed out waiting for ${what}`);
}

test("a half-open connection is detected within interval + timeout", async () => {
  const clock = new FakeClock();
  const calls: string[] = [];
  const rpcHandler: RpcHandler = {
    receive(_client, message) {
      calls.push(`rpc ${message.byteLength} bytes`);
      return message[0] === 0x68 /* "h"ang */ ? new Promise(() => {}) : message;
    },
  };
  const server = new TransportServer({ rpcHandler, interceptor: ferryPingResponder });
  const listener = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
  const proxy = await FaultProxy.start({ port: listener.address.port });
  const client = await TransportClient.connect(tcpConnect({ host: "127.0.0.1", port: proxy.port }));
  startFerryHeartbeat(client, { intervalMs: INTERVAL_MS, timeoutMs: TIMEOUT_MS, clock });
  // Time moves only by hand: three beats, each answered over the real sockets.
  for (let beat = 1; beat <= 3; beat++) {
    clock.advance(ONE_INTERVAL);
    await until(() => client.stats().messagesReceived === beat, `pong ${beat}`);
  }
  assert.equal(client.isActive, true, "a healthy idle connection stays open");
  assert.deepEqual(calls, [], "pings never reach the handler");
  assert.ok(proxy.stats.bytesToClient > 0, "pongs came back");

  proxy.setFault({ kind: "blackhole" });
  const inFlight = client.sendRpc(utf8("hang")).catch((error) => error);
  clock.advance(ONE_INTERVAL); // the next ping goes into the blackhole (sent synchronously)
  assert.equal(client.stats().inFlight.rpcs, 2, "the ping and the hung RPC wait");
  clock.advance(TIMEOUT_MS); // its pong was due by now at the latest
  const closed = await client.closed;
  console.log(
    `heartbeat: half-open connection (blackhole) detected within ${ONE_INTERVAL + TIMEOUT_MS} ` +
      `clock ms (interval ${INTERVAL_MS} ± ${HEARTBEAT_JITTER * 100} % + timeout ${TIMEOUT_MS})`,
  );
  assert.ok(closed.error instanceof TimeoutError, String(closed.error));
  assert.match(closed.error.message, /Heartbeat to .* failed: no pong within 300 ms/);
  assert.ok(await inFlight instanceof ConnectionClosedError, "what was in flight failed with it");
  assert.equal(clock.pendingTimers, 0, "no timer left behind");
  await proxy.close();
  await server.close();
});
