/**
 * The pool over the real engine (in memory): shared and exclusive leases of real clients,
 * validation that really round-trips only for Ferry peers, the retrying chunk fetcher and the
 * byte budget.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { sharedSecretBootstrap } from "../../../src/auth/shared-secret-bootstrap.ts";
import { SharedSecretServer } from "../../../src/auth/shared-secret-server.ts";
import type { InboundInterceptor } from "../../../src/client/client-options.ts";
import type { TransportClient } from "../../../src/client/transport-client.ts";
import { ConnectionClosedError, RemoteError } from "../../../src/errors.ts";
import { ConnectionPool } from "../../../src/pool/connection-pool.ts";
import { ControlKind, controlKind } from "../../../src/protocol/ferry-control.ts";
import { chainInterceptors } from "../../../src/client/chain-interceptors.ts";
import { ferryPing, ferryPingResponder } from "../../../src/extensions/ferry-ping.ts";
import { ferryPingValidator } from "../../../src/extensions/ferry-ping-validator.ts";
import type { ConnectionPoolOptions } from "../../../src/pool/pool-options.ts";
import { fetchChunksWithRetry } from "../../../src/pool/retrying-chunk-fetcher.ts";
import type { ChunkLocation } from "../../../src/pool/retrying-chunk-fetcher.ts";
import { transportConnector } from "../../../src/pool/transport-connector.ts";
import type { Connect } from "../../../src/socket.ts";
import { settle } from "../../helpers/engine-fixtures.ts";
import { FakeClock } from "../../helpers/fake-clock.ts";
import { chunkBytes, startServer } from "./pool-fixtures.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const secret = "correct horse battery staple";

function pool(
  connect: Connect,
  options: Partial<ConnectionPoolOptions<TransportClient>> = {},
): ConnectionPool<TransportClient> {
  return new ConnectionPool<TransportClient>({
    connector: transportConnector(() => connect),
    validate: ferryPingValidator(),
    ...options,
  });
}

/** Counts pings a server answers (placed in front of the responder). */
function pingCounter(): { count: number; interceptor: InboundInterceptor } {
  const counter = {
    count: 0,
    interceptor: ((message) => {
      if (message.type === 3 && controlKind(message.body) === ControlKind.Ping) counter.count++;
      return false;
    }) as InboundInterceptor,
  };
  return counter;
}

test("shared leases multiplex concurrent RPCs over one real connection", async () => {
  const { server, connect, handler } = await startServer();
  const shared = pool(connect);
  const replies = await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      await using lease = await shared.lease("s");
      return text(await lease.client.sendRpc(utf8(`m${i}`)));
    }),
  );
  assert.deepEqual(replies, Array.from({ length: 50 }, (_, i) => `m${i}`));
  assert.equal(server.connections.size, 1);
  assert.equal(handler.calls.length, 50);
  await shared.close();
  await settle();
  assert.equal(server.connections.size, 0, "close() leaves no connection behind");
  await server.close();
});

test("exclusive leases open a connection per concurrent lease up to the limit", async () => {
  const { server, connect } = await startServer();
  const exclusive = pool(connect, { maxStreamsPerConnection: 1, maxPerRoute: 3 });
  const leases = await Promise.all([1, 2, 3].map(() => exclusive.lease("s")));
  assert.equal(new Set(leases.map((lease) => lease.client)).size, 3);
  assert.equal(server.connections.size, 3);
  const fourth = exclusive.lease("s");
  leases[0]!.release();
  assert.equal((await fourth).client, leases[0]!.client);
  await exclusive.close();
  await server.close();
});

test("a server-closed connection is replaced on the next lease", async () => {
  const { server, connect } = await startServer();
  const shared = pool(connect);
  const first = await shared.client("s");
  for (const connection of server.connections) await connection.close();
  await first.closed;
  const second = await shared.client("s");
  assert.notEqual(second, first);
  assert.equal(text(await second.sendRpc(utf8("again"))), "again");
  await shared.close();
  await server.close();
});

test("validation pings an authenticated Ferry peer, and the handler never sees the ping", async () => {
  const pings = pingCounter();
  const gate = new SharedSecretServer({ secret });
  const { server, connect, handler } = await startServer((options) => ({
    ...gate.serverOptions(options),
    interceptor: chainInterceptors(gate.interceptor, pings.interceptor, ferryPingResponder),
  }));
  const clock = new FakeClock();
  const authed = pool(connect, {
    clock,
    validateAfterInactivityMs: 1_000,
    bootstraps: [sharedSecretBootstrap({ principal: "app", secret })],
  });
  const first = await authed.lease("s");
  const client = first.client;
  first.release();
  clock.advance(1_000);
  const second = await authed.lease("s");
  assert.equal(second.client, client, "the ping succeeded: same connection");
  assert.equal(pings.count, 1);
  assert.deepEqual(handler.calls, []);
  second.release();
  await authed.close();
  await server.close();
});

test("a peer not known to be Ferry is never pinged: its handler sees nothing", async () => {
  const { server, connect, handler } = await startServer();
  const clock = new FakeClock();
  const plain = pool(connect, { clock, validateAfterInactivityMs: 1_000 });
  (await plain.lease("s")).release();
  clock.advance(5_000);
  (await plain.lease("s")).release();
  assert.deepEqual(handler.calls, []);
  assert.equal(server.connections.size, 1);
  await plain.close();
  await server.close();
});

test("a peer wrongly configured as Ferry echoes the ping: it is not taken for a pong", async () => {
  const { server, connect, handler } = await startServer();
  const clock = new FakeClock();
  const misconfigured = pool(connect, {
    clock,
    validateAfterInactivityMs: 1_000,
    peerFeatures: ["ferry"],
  });
  const first = await misconfigured.lease("s");
  const client = first.client;
  first.release();
  await assert.rejects(ferryPing(client), /expected a Ferry pong echoing the 8-byte nonce/);
  clock.advance(1_000);
  const second = await misconfigured.lease("s");
  assert.notEqual(second.client, client, "validation failed: the connection was replaced");
  assert.deepEqual(handler.calls, ["rpc control:1", "rpc control:1"]);
  second.release();
  await misconfigured.close();
  await server.close();
});

test("a Ferry server answers pings without its handler", async () => {
  const { server, connect, handler } = await startServer((options) => ({
    ...options,
    interceptor: ferryPingResponder,
  }));
  const plain = pool(connect);
  const client = await plain.client("s");
  await ferryPing(client);
  await ferryPing(client, { timeoutMs: 1_000 });
  assert.deepEqual(handler.calls, []);
  await plain.close();
  await server.close();
});

test("retrying fetch: after the connection dies, only outstanding chunks are re-requested on a fresh one", async () => {
  const { server, connect, streams } = await startServer();
  const shared = pool(connect);
  const delivered = new Map<number, Uint8Array>();
  const failures: string[] = [];
  // Chunk 5 stalls; once the other seven have been answered (six chunks, one failure), the
  // connection is reset. Counted, not timed: under load the replies may take any time.
  let reset: (() => void) | undefined;
  const resetOnceOthersAnswered = () => {
    if (reset === undefined || delivered.size + failures.length < 7) return;
    const close = reset;
    reset = undefined;
    close();
  };
  let killed = false;
  streams.beforeChunk = (_streamId, index, owner) => {
    if (index === 2) throw new Error("chunk 2 is corrupt"); // answered: a ChunkFetchFailure
    if (index === 5 && !killed) {
      killed = true;
      reset = () => void owner.close(new ConnectionClosedError("injected reset"));
      resetOnceOthersAnswered();
      return new Promise<void>(() => {});
    }
  };
  const keys = Array.from({ length: 8 }, (_, i): ChunkLocation => ({ streamId: 9, chunkIndex: i }));
  const opened: number[][] = [];
  const result = await fetchChunksWithRetry(shared, "s", {
    keys,
    retryWaitMs: 1,
    open: (_client, outstanding) => {
      opened.push(outstanding.map((key) => key.chunkIndex));
      return Promise.resolve((key: ChunkLocation) => key);
    },
    onChunk: (key, bytes) => {
      assert.ok(!delivered.has(key.chunkIndex), "each chunk is delivered once");
      delivered.set(key.chunkIndex, bytes);
      resetOnceOthersAnswered();
    },
    onFailure: (key, error) => {
      failures.push(
        `${key.chunkIndex}: ${error instanceof RemoteError ? "remote" : String(error)}`,
      );
      resetOnceOthersAnswered();
    },
  });
  assert.deepEqual(failures, ["2: remote"]);
  assert.equal(result.failed.length, 1);
  assert.equal(result.attempts, 2);
  assert.deepEqual([...delivered.keys()].sort(), [0, 1, 3, 4, 5, 6, 7]);
  for (const [index, bytes] of delivered) assert.deepEqual(bytes, chunkBytes(9, index));
  assert.deepEqual(opened, [[0, 1, 2, 3, 4, 5, 6, 7], [5]], "the retry asks only for chunk 5");
  assert.deepEqual(
    streams.requests.filter((entry) => entry.endsWith("@2")),
    ["9/5@2"],
    "the fresh connection is asked only for what was outstanding",
  );
  await shared.close();
  await server.close();
});

test("retrying fetch gives up after maxRetries with the last I/O error", async () => {
  const { server, connect, streams } = await startServer();
  const shared = pool(connect);
  streams.beforeChunk = (_s, _i, owner) => {
    void owner.close(new ConnectionClosedError("always reset"));
  };
  const result = await fetchChunksWithRetry(shared, "s", {
    keys: [{ streamId: 1, chunkIndex: 0 }],
    maxRetries: 2,
    retryWaitMs: 1,
    onChunk: () => assert.fail("nothing arrives"),
  });
  assert.equal(result.attempts, 3);
  assert.equal(result.fetched, 0);
  assert.ok(result.failed[0]!.error instanceof ConnectionClosedError);
  assert.equal(streams.requests.length, 3);
  await shared.close();
  await server.close();
});

test("the byte budget bounds the bytes in flight across concurrent fetchers", async () => {
  const { server, connect } = await startServer();
  const shared = pool(connect, { maxBytesInFlight: 256 });
  const budget = shared.byteBudget("s");
  let peak = 0;
  const fetchers = [1, 2, 3].map((streamId) =>
    fetchChunksWithRetry(shared, "s", {
      keys: Array.from({ length: 10 }, (_, i): ChunkLocation => ({ streamId, chunkIndex: i })),
      sizeOf: () => 64,
      onChunk: async () => {
        peak = Math.max(peak, budget.inFlight);
        await settle(1); // consuming takes a while; the reservation is held until it is done
      },
    })
  );
  const results = await Promise.all(fetchers);
  assert.deepEqual(results.map((result) => result.fetched), [10, 10, 10]);
  assert.ok(peak <= 256, `at most 256 bytes in flight, saw ${peak}`);
  assert.equal(peak, 256, "the budget was used in full");
  assert.equal(budget.inFlight, 0);
  await shared.close();
  await server.close();
});
