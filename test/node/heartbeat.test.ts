/**
 * The Ferry ⇄ Ferry heartbeat detects a half-open connection within interval + timeout: a fault
 * proxy switches a healthy, idle connection to blackhole (both sockets stay open, nothing gets
 * through), and the client closes it with a `TimeoutError`. Pings never reach the application's
 * handler, and a peer not known to be Ferry is never pinged.
 *
 * Figure printed: time from the blackhole to the close, against interval + timeout.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tcpConnect, tcpListen } from "../../adapters/node/tcp.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { ConnectionClosedError, TimeoutError } from "../../src/errors.ts";
import {
  ferryHeartbeatBootstrap,
  startFerryHeartbeat,
} from "../../src/extensions/ferry-heartbeat.ts";
import { ferryPingResponder } from "../../src/extensions/ferry-ping.ts";
import type { BootstrapContext } from "../../src/pool/pool-options.ts";
import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { FaultProxy } from "../helpers/fault-proxy.ts";
import { utf8 } from "../helpers/engine-fixtures.ts";

const INTERVAL_MS = 200;
const TIMEOUT_MS = 300;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function recordingServer(withResponder: boolean) {
  const calls: string[] = [];
  const rpcHandler: RpcHandler = {
    receive(_client, message) {
      calls.push(`rpc ${message.byteLength} bytes`);
      return message[0] === 0x68 /* "h"ang */ ? new Promise(() => {}) : message;
    },
  };
  const server = new TransportServer({
    rpcHandler,
    ...(withResponder ? { interceptor: ferryPingResponder } : {}),
  });
  return { server, calls };
}

test("a half-open connection is detected within interval + timeout", async () => {
  const { server, calls } = recordingServer(true);
  const listener = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
  const proxy = await FaultProxy.start({ port: listener.address.port });
  const client = await TransportClient.connect(tcpConnect({ host: "127.0.0.1", port: proxy.port }));
  startFerryHeartbeat(client, { intervalMs: INTERVAL_MS, timeoutMs: TIMEOUT_MS });
  await sleep(INTERVAL_MS * 4);
  assert.equal(client.isActive, true, "a healthy idle connection stays open");
  assert.deepEqual(calls, [], "pings never reach the handler");
  assert.ok(proxy.stats.bytesToClient > 0, "pongs came back");

  proxy.setFault({ kind: "blackhole" });
  const cutAt = performance.now();
  const inFlight = client.sendRpc(utf8("hang")).catch((error) => error);
  const closed = await client.closed;
  const detectedMs = performance.now() - cutAt;
  console.log(
    `heartbeat: half-open connection (blackhole) detected after ${detectedMs.toFixed(0)} ms ` +
      `(interval ${INTERVAL_MS} + timeout ${TIMEOUT_MS} = ${INTERVAL_MS + TIMEOUT_MS} ms bound)`,
  );
  assert.ok(closed.error instanceof TimeoutError, String(closed.error));
  assert.match(closed.error.message, /Heartbeat to .* failed: no pong within 300 ms/);
  assert.ok(await inFlight instanceof ConnectionClosedError, "what was in flight failed with it");
  // Generous against scheduling noise; the printed figure is the real one.
  assert.ok(detectedMs < (INTERVAL_MS + TIMEOUT_MS) * 3, `detected after ${detectedMs} ms`);
  await proxy.close();
  await server.close();
});

test("the pool bootstrap pings only peers known to be Ferry", async () => {
  // A Spark-like server: no ping responder, so a ping would reach (and be echoed by) its handler.
  const { server, calls } = recordingServer(false);
  const listener = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
  const connect = tcpConnect({ host: "127.0.0.1", port: listener.address.port });
  const bootstrap = ferryHeartbeatBootstrap({ intervalMs: 50, timeoutMs: 100 });
  const context = (features: string[]) =>
    ({ peerFeatures: new Set(features) }) as unknown as BootstrapContext;

  const plain = await TransportClient.connect(connect);
  await bootstrap(plain, context([]));
  await sleep(250);
  assert.deepEqual(calls, [], "a peer not known to be Ferry never sees a ping");
  assert.equal(plain.isActive, true);

  // Told (wrongly) that this peer is Ferry, the heartbeat runs: the echo is not a pong.
  const misconfigured = await TransportClient.connect(connect);
  await bootstrap(misconfigured, context(["ferry"]));
  const closed = await misconfigured.closed;
  assert.ok(calls.length > 0);
  assert.ok(closed.error instanceof TimeoutError);
  assert.match(closed.error.message, /expected a Ferry pong/);
  await plain.close();
  await server.close();
});
