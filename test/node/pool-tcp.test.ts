/**
 * The pool over real loopback TCP (Node adapter): authenticated shared and exclusive leases,
 * pings that really round-trip, a dead peer failing fast, retried chunk fetches, and a close()
 * that leaves no socket behind.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { tcpConnect, tcpListen } from "../../adapters/node/tcp.ts";
import { sharedSecretBootstrap } from "../../src/auth/shared-secret-bootstrap.ts";
import { SharedSecretServer } from "../../src/auth/shared-secret-server.ts";
import type { InboundInterceptor } from "../../src/client/client-options.ts";
import type { TransportClient } from "../../src/client/transport-client.ts";
import { AuthError, ConnectError, ConnectionClosedError } from "../../src/errors.ts";
import { ConnectionPool } from "../../src/pool/connection-pool.ts";
import { ControlKind, controlKind } from "../../src/pool/ferry-control.ts";
import {
  chainInterceptors,
  ferryPingResponder,
  ferryPingValidator,
} from "../../src/pool/ferry-ping.ts";
import type { ConnectionPoolOptions } from "../../src/pool/pool-options.ts";
import { fetchChunksWithRetry } from "../../src/pool/retrying-chunk-fetcher.ts";
import type { ChunkLocation } from "../../src/pool/retrying-chunk-fetcher.ts";
import type { RouteAddress } from "../../src/pool/route.ts";
import { transportConnector } from "../../src/pool/transport-connector.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { chunkBytes, RecordingHandler, ScriptedStreamManager } from "../unit/pool/pool-fixtures.ts";

const secret = "a shared secret of decent length";
const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface TcpServer {
  readonly route: RouteAddress;
  readonly server: TransportServer;
  readonly handler: RecordingHandler;
  readonly streams: ScriptedStreamManager;
  pings: number;
  stop(): Promise<void>;
}

async function startTcpServer(withAuth: boolean): Promise<TcpServer> {
  const handler = new RecordingHandler();
  const streams = new ScriptedStreamManager();
  const state = { pings: 0 };
  const countPings: InboundInterceptor = (message) => {
    if (message.type === 3 && controlKind(message.body) === ControlKind.Ping) state.pings++;
    return false;
  };
  const gate = new SharedSecretServer({ secret });
  const base = { rpcHandler: handler, streamManager: streams, closeGraceMs: 200 };
  const server = new TransportServer(
    withAuth
      ? {
        ...gate.serverOptions(base),
        interceptor: chainInterceptors(gate.interceptor, countPings, ferryPingResponder),
      }
      : { ...base, interceptor: chainInterceptors(countPings, ferryPingResponder) },
  );
  const listener = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
  return {
    route: { host: listener.address.host, port: listener.address.port },
    server,
    handler,
    streams,
    get pings() {
      return state.pings;
    },
    stop: () => server.close(),
  };
}

function tcpPool(options: Partial<ConnectionPoolOptions<TransportClient>> = {}) {
  return new ConnectionPool<TransportClient>({
    connector: transportConnector((route) => tcpConnect(route as RouteAddress)),
    validate: ferryPingValidator(),
    bootstraps: [sharedSecretBootstrap({ principal: "tcp-test", secret })],
    ...options,
  });
}

test("authenticated shared leases multiplex over one TCP connection", async () => {
  const peer = await startTcpServer(true);
  const pool = tcpPool();
  const replies = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
    await using lease = await pool.lease(peer.route);
    return text(await lease.client.sendRpc(utf8(`tcp-${i}`)));
  }));
  assert.deepEqual(replies, Array.from({ length: 200 }, (_, i) => `tcp-${i}`));
  assert.equal(peer.server.connections.size, 1);
  assert.equal(pool.stats().routes[`127.0.0.1:${peer.route.port}`]!.connections, 1);
  await pool.close();
  await delay(20);
  assert.equal(peer.server.connections.size, 0, "close() leaves no socket open");
  await peer.stop();
});

test("exclusive leases over TCP: one connection per concurrent lease, reused afterwards", async () => {
  const peer = await startTcpServer(true);
  const pool = tcpPool({ maxStreamsPerConnection: 1, maxPerRoute: 4 });
  for (let round = 0; round < 3; round++) {
    await Promise.all(Array.from({ length: 8 }, async () => {
      await using lease = await pool.lease(peer.route);
      await lease.client.sendRpc(utf8("x"));
    }));
  }
  assert.equal(peer.server.connections.size, 4);
  await pool.close();
  await peer.stop();
});

test("validation after inactivity pings the authenticated peer over TCP", async () => {
  const peer = await startTcpServer(true);
  const pool = tcpPool({ validateAfterInactivityMs: 5 });
  const first = await pool.lease(peer.route);
  const client = first.client;
  first.release();
  await delay(20);
  const second = await pool.lease(peer.route);
  assert.equal(second.client, client);
  assert.equal(peer.pings, 1);
  assert.deepEqual(peer.handler.calls, [], "the handler never sees auth or pings");
  second.release();
  await pool.close();
  await peer.stop();
});

test("a wrong secret over TCP fails the lease with AuthError", async () => {
  const peer = await startTcpServer(true);
  const pool = tcpPool({
    bootstraps: [sharedSecretBootstrap({ principal: "x", secret: "not the right secret!" })],
  });
  await assert.rejects(pool.lease(peer.route), AuthError);
  assert.deepEqual(peer.handler.calls, []);
  await pool.close();
  await peer.stop();
});

test("a peer that goes away: the dead client is replaced, refused connects fail fast", async () => {
  const peer = await startTcpServer(false);
  const pool = tcpPool({ bootstraps: [], connectBackoff: { initialMs: 60_000 } });
  const client = await pool.client(peer.route);
  await peer.stop();
  await client.closed;
  await assert.rejects(pool.lease(peer.route), ConnectError, "nothing listens: connection refused");
  await assert.rejects(pool.lease(peer.route), /failing fast/);
  assert.equal(pool.stats().total.connections, 0);
  await pool.close();
});

test("a retried chunk fetch over TCP survives a reset and repeats nothing already answered", async () => {
  const peer = await startTcpServer(false);
  const pool = tcpPool({ bootstraps: [] });
  let reset = false;
  peer.streams.beforeChunk = (_id, index, owner) => {
    if (index === 3 && !reset) {
      reset = true;
      return new Promise<void>(() => {
        setTimeout(() => void owner.close(new ConnectionClosedError("injected reset")), 30);
      });
    }
  };
  const got = new Map<number, Uint8Array>();
  const result = await fetchChunksWithRetry(pool, peer.route, {
    keys: Array.from({ length: 6 }, (_, i): ChunkLocation => ({ streamId: 4, chunkIndex: i })),
    retryWaitMs: 5,
    sizeOf: () => 64,
    onChunk: (key, bytes) => void got.set(key.chunkIndex, bytes),
  });
  assert.equal(result.attempts, 2);
  assert.equal(result.fetched, 6);
  for (const [index, bytes] of got) assert.deepEqual(bytes, chunkBytes(4, index));
  assert.deepEqual(
    peer.streams.requests.filter((entry) => entry.endsWith("@2")),
    ["4/3@2"],
    "the second connection is asked only for the chunk that was outstanding",
  );
  await pool.close();
  await peer.stop();
});
