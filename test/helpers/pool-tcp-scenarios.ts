/**
 * The pool over real loopback TCP, runtime-neutral: authenticated shared and exclusive leases,
 * pings that really round-trip, a dead peer failing fast, retried chunk fetches, and a close()
 * that leaves no socket behind. Each runtime passes its own `tcpListen`/`tcpConnect` and registers
 * the cases with its runner (under Node `node:test` with a handle-leak check, under Deno
 * `Deno.test` with the resource and op sanitizers on).
 *
 * Every case closes its pool and server in a `finally`, so a failing assertion reports itself
 * rather than a leak or a hung process.
 *
 * @module
 */

import assert from "node:assert/strict";
import { sharedSecretBootstrap } from "../../src/auth/shared-secret-bootstrap.ts";
import { SharedSecretServer } from "../../src/auth/shared-secret-server.ts";
import type { InboundInterceptor } from "../../src/client/client-options.ts";
import type { TransportClient } from "../../src/client/transport-client.ts";
import { AuthError, ConnectError, ConnectionClosedError } from "../../src/errors.ts";
import { ConnectionPool } from "../../src/pool/connection-pool.ts";
import { ControlKind, controlKind } from "../../src/protocol/ferry-control.ts";
import { chainInterceptors } from "../../src/client/chain-interceptors.ts";
import { ferryPingResponder } from "../../src/extensions/ferry-ping.ts";
import { ferryPingValidator } from "../../src/extensions/ferry-ping-validator.ts";
import type { ConnectionPoolOptions } from "../../src/pool/pool-options.ts";
import { fetchChunksWithRetry } from "../../src/pool/retrying-chunk-fetcher.ts";
import type { ChunkLocation } from "../../src/pool/retrying-chunk-fetcher.ts";
import type { RouteAddress } from "../../src/pool/route.ts";
import { transportConnector } from "../../src/pool/transport-connector.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import type { Connect, Listen } from "../../src/socket.ts";
import { chunkBytes, RecordingHandler, ScriptedStreamManager } from "../unit/pool/pool-fixtures.ts";

/** One runtime's real TCP, as the scenarios need it. */
export interface PoolTcpTransport {
  /** A `Listen` on 127.0.0.1, port 0. */
  listen(): Listen;
  /** A `Connect` to `route`. */
  connect(route: RouteAddress): Connect;
}

/** One scenario: a title and a body that leaves no socket, listener or timer open. */
export interface PoolTcpScenario {
  readonly title: string;
  readonly body: () => Promise<void>;
}

const secret = "a shared secret of decent length";
const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface TcpPeer {
  readonly route: RouteAddress;
  readonly server: TransportServer;
  readonly handler: RecordingHandler;
  readonly streams: ScriptedStreamManager;
  readonly pings: number;
  stop(): Promise<void>;
}

async function startPeer(transport: PoolTcpTransport, withAuth: boolean): Promise<TcpPeer> {
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
  try {
    const listener = await server.listen(transport.listen());
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
  } catch (error) {
    await server.close();
    throw error;
  }
}

/**
 * Runs `body` against a fresh peer and pool, then closes both whatever happened (both closes are
 * idempotent, so a body may close them itself to assert on what closing does).
 */
async function withPeerAndPool(
  transport: PoolTcpTransport,
  setup: { auth: boolean; pool?: Partial<ConnectionPoolOptions<TransportClient>> },
  body: (peer: TcpPeer, pool: ConnectionPool<TransportClient>) => Promise<void>,
): Promise<void> {
  const peer = await startPeer(transport, setup.auth);
  const pool = new ConnectionPool<TransportClient>({
    connector: transportConnector((route) => transport.connect(route as RouteAddress)),
    validate: ferryPingValidator(),
    bootstraps: [sharedSecretBootstrap({ principal: "tcp-test", secret })],
    ...setup.pool,
  });
  try {
    await body(peer, pool);
  } finally {
    await pool.close();
    await peer.stop();
  }
}

/** The pool-over-TCP scenarios on `transport`. */
export function poolTcpScenarios(transport: PoolTcpTransport): PoolTcpScenario[] {
  const scenarios: PoolTcpScenario[] = [];
  const scenario = (title: string, body: () => Promise<void>) => scenarios.push({ title, body });

  scenario(
    "authenticated shared leases multiplex over one TCP connection",
    () =>
      withPeerAndPool(transport, { auth: true }, async (peer, pool) => {
        const replies = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
          await using lease = await pool.lease(peer.route);
          return text(await lease.client.sendRpc(utf8(`tcp-${i}`)));
        }));
        assert.deepEqual(replies, Array.from({ length: 200 }, (_, i) => `tcp-${i}`));
        assert.equal(peer.server.connections.size, 1);
        assert.equal(pool.stats().routes[`127.0.0.1:${peer.route.port}`]!.connections, 1);
        const serverSide = [...peer.server.connections];
        await pool.close();
        // The server learns of the end only from the wire: wait for it, not for a clock.
        await Promise.all(serverSide.map((connection) => connection.closed));
        assert.equal(peer.server.connections.size, 0, "close() leaves no socket open");
      }),
  );

  scenario(
    "exclusive leases over TCP: one connection per concurrent lease, reused afterwards",
    () =>
      withPeerAndPool(
        transport,
        { auth: true, pool: { maxStreamsPerConnection: 1, maxPerRoute: 4 } },
        async (peer, pool) => {
          for (let round = 0; round < 3; round++) {
            await Promise.all(Array.from({ length: 8 }, async () => {
              await using lease = await pool.lease(peer.route);
              await lease.client.sendRpc(utf8("x"));
            }));
          }
          assert.equal(peer.server.connections.size, 4);
          assert.equal(peer.handler.calls.length, 24);
        },
      ),
  );

  scenario(
    "validation after inactivity pings the authenticated peer over TCP",
    () =>
      withPeerAndPool(
        transport,
        { auth: true, pool: { validateAfterInactivityMs: 5 } },
        async (peer, pool) => {
          const first = await pool.lease(peer.route);
          const client = first.client;
          first.release();
          await delay(20);
          const second = await pool.lease(peer.route);
          assert.equal(second.client, client);
          assert.equal(peer.pings, 1);
          assert.deepEqual(peer.handler.calls, [], "the handler never sees auth or pings");
          second.release();
        },
      ),
  );

  scenario(
    "a wrong secret over TCP fails the lease with AuthError",
    () =>
      withPeerAndPool(transport, {
        auth: true,
        pool: {
          bootstraps: [sharedSecretBootstrap({ principal: "x", secret: "not the right secret!" })],
        },
      }, async (peer, pool) => {
        await assert.rejects(pool.lease(peer.route), AuthError);
        assert.deepEqual(peer.handler.calls, []);
      }),
  );

  scenario(
    "a peer that goes away: the dead client is replaced, refused connects fail fast",
    () =>
      withPeerAndPool(
        transport,
        { auth: false, pool: { bootstraps: [], connectBackoff: { initialMs: 60_000 } } },
        async (peer, pool) => {
          const client = await pool.client(peer.route);
          await peer.stop();
          await client.closed;
          await assert.rejects(
            pool.lease(peer.route),
            ConnectError,
            "nothing listens: connection refused",
          );
          await assert.rejects(pool.lease(peer.route), /failing fast/);
          assert.equal(pool.stats().total.connections, 0);
        },
      ),
  );

  scenario(
    "a retried chunk fetch over TCP survives a reset and repeats nothing already answered",
    () =>
      withPeerAndPool(transport, { auth: false, pool: { bootstraps: [] } }, async (peer, pool) => {
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
          keys: Array.from(
            { length: 6 },
            (_, i): ChunkLocation => ({ streamId: 4, chunkIndex: i }),
          ),
          retryWaitMs: 5,
          sizeOf: () => 64,
          onChunk: (key, bytes) => void got.set(key.chunkIndex, bytes),
        });
        assert.equal(result.attempts, 2);
        assert.equal(result.fetched, 6);
        assert.deepEqual([...got.keys()].sort(), [0, 1, 2, 3, 4, 5]);
        for (const [index, bytes] of got) assert.deepEqual(bytes, chunkBytes(4, index));
        assert.deepEqual(
          peer.streams.requests.filter((entry) => entry.endsWith("@2")),
          ["4/3@2"],
          "the second connection is asked only for the chunk that was outstanding",
        );
      }),
  );

  return scenarios;
}
