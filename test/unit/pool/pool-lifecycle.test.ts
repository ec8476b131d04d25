/**
 * Connection lifetime rules: time-to-live, idle eviction on one timer, validation after
 * inactivity, bootstraps, hooks, route keys and option validation.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthError, InvalidArgumentError, TimeoutError } from "../../../src/errors.ts";
import { ConnectionPool } from "../../../src/pool/connection-pool.ts";
import type { PooledConnectionInfo } from "../../../src/pool/pool-options.ts";
import { routeKey } from "../../../src/pool/route.ts";
import { settle } from "../../helpers/fake-clock.ts";
import type { FakeClient } from "./fake-pool-client.ts";
import { harness } from "./pool-harness.ts";

test("time-to-live: an expired connection is closed instead of handed out", async () => {
  const { pool, clock, connector, events } = harness({ timeToLiveMs: 1_000 });
  const first = await pool.lease("r");
  first.release();
  clock.advance(999);
  const second = await pool.lease("r");
  assert.equal(second.client, first.client);
  second.release();
  clock.advance(1);
  const third = await pool.lease("r");
  assert.notEqual(third.client, first.client);
  assert.equal(connector.calls.length, 2);
  assert.ok(events.includes(`close r #${first.client.id} ttl`));
  third.release();
  await pool.close();
});

test("time-to-live on a shared connection: no new leases, closed when the last is released", async () => {
  const { pool, clock } = harness({ timeToLiveMs: 1_000 });
  const a = await pool.lease("r");
  const b = await pool.lease("r");
  assert.equal(a.client, b.client);
  clock.advance(1_000);
  const c = await pool.lease("r");
  assert.notEqual(c.client, a.client, "the expired shared connection takes no new lease");
  a.release();
  assert.equal(a.client.closeCalls, 0, "still carrying b's lease");
  b.release();
  assert.equal(a.client.closeCalls, 1);
  assert.equal(pool.stats().total.connections, 1);
  c.release();
  await pool.close();
});

test("idle eviction: one timer, armed only while connections are idle", async () => {
  const { pool, clock, events } = harness({ maxStreamsPerConnection: 1, idleTimeoutMs: 500 });
  assert.equal(clock.pendingTimers, 0);
  const a = await pool.lease("r");
  const b = await pool.lease("r");
  a.release();
  clock.advance(200);
  b.release();
  assert.equal(clock.pendingTimers, 1, "one sweep timer for all idle connections");
  clock.advance(299);
  assert.equal(pool.stats().total.available, 2);
  clock.advance(1);
  assert.equal(pool.stats().total.available, 1, "the one idle 500 ms is gone");
  assert.ok(events.includes(`close r #${a.client.id} idle`));
  assert.equal(clock.pendingTimers, 1, "re-armed for the other");
  clock.advance(200);
  assert.equal(pool.stats().total.connections, 0);
  assert.equal(clock.pendingTimers, 0, "nothing idle: no timer");
  assert.deepEqual(pool.stats().routes, {}, "the route's state is forgotten");
  await pool.close();
});

test("a leased connection is never evicted for idleness", async () => {
  const { pool, clock } = harness({ idleTimeoutMs: 100 });
  const lease = await pool.lease("r");
  clock.advance(10_000);
  assert.equal(lease.client.closeCalls, 0);
  lease.release();
  clock.advance(100);
  assert.equal(lease.client.closeCalls, 1);
  await pool.close();
});

test("validation after inactivity: only idle-long-enough connections are checked", async () => {
  const checked: PooledConnectionInfo[] = [];
  let verdict = true;
  const { pool, clock, connector, events } = harness({
    validateAfterInactivityMs: 1_000,
    validate: (_client: FakeClient, info) => {
      checked.push(info);
      return Promise.resolve(verdict);
    },
  });
  const first = await pool.lease("r");
  first.release();
  clock.advance(999);
  (await pool.lease("r")).release();
  assert.equal(checked.length, 0);
  clock.advance(1_000);
  const validated = await pool.lease("r");
  assert.equal(validated.client, first.client);
  assert.equal(checked.length, 1);
  assert.equal(checked[0]!.routeKey, "r");
  validated.release();
  clock.advance(1_000);
  verdict = false;
  const replaced = await pool.lease("r");
  assert.notEqual(replaced.client, first.client);
  assert.equal(connector.calls.length, 2);
  assert.ok(events.includes(`close r #${first.client.id} validation-failed`));
  replaced.release();
  await pool.close();
});

test("validation that throws or hangs counts as failed; waiters keep their place", async () => {
  let mode: "throw" | "hang" = "throw";
  const { pool, clock, connector } = harness({
    validateAfterInactivityMs: 10,
    validationTimeoutMs: 50,
    validate: () =>
      mode === "throw" ? Promise.reject(new Error("pong lost")) : new Promise(() => {}),
  });
  (await pool.lease("r")).release();
  clock.advance(10);
  const afterThrow = await pool.lease("r");
  assert.equal(connector.calls.length, 2);
  afterThrow.release();
  clock.advance(10);
  mode = "hang";
  const joined = [pool.lease("r"), pool.lease("r")];
  await settle();
  clock.advance(50);
  const [x, y] = await Promise.all(joined);
  assert.equal(x!.client, y!.client, "both waiters moved to the replacement");
  assert.equal(connector.calls.length, 3);
  x!.release();
  y!.release();
  await pool.close();
});

test("bootstraps run in order on every new connection before it is handed out", async () => {
  const log: string[] = [];
  const { pool } = harness({
    bootstraps: [
      (client: FakeClient, context) => {
        log.push(`one #${client.id} ${context.routeKey}`);
        context.peerFeatures.add("ferry");
      },
      async (client: FakeClient, context) => {
        await settle();
        log.push(`two #${client.id} ${[...context.peerFeatures].join(",")}`);
      },
    ],
    routes: { "b": { peerFeatures: ["configured"] } },
  });
  const a = await pool.lease("a");
  const b = await pool.lease("b");
  assert.deepEqual(log, ["one #1 a", "two #1 ferry", "one #2 b", "two #2 configured,ferry"]);
  a.release();
  b.release();
  (await pool.lease("a")).release();
  assert.equal(log.length, 4, "not again on reuse");
  await pool.close();
});

test("a failing bootstrap closes the connection and fails the lease with its error", async () => {
  const cause = new AuthError("bad secret");
  const { pool, connector, events } = harness({
    bootstraps: [() => Promise.reject(cause)],
  });
  await assert.rejects(pool.lease("r"), (error) => error === cause);
  assert.equal(connector.created[0]!.closeCalls, 1);
  assert.equal(pool.stats().total.connections, 0);
  assert.ok(events.includes("connect-failed r"));
  await pool.close();
});

test("a bootstrap that hangs is cut off by bootstrapTimeoutMs", async () => {
  const { pool, clock, connector } = harness({
    bootstrapTimeoutMs: 300,
    bootstraps: [() => new Promise<void>(() => {})],
  });
  const lease = pool.lease("r");
  await settle();
  clock.advance(300);
  await assert.rejects(lease, (error: unknown) => {
    assert.ok(error instanceof TimeoutError);
    assert.match(error.message, /Bootstrapping the connection to r timed out after 300 ms/);
    return true;
  });
  assert.equal(connector.created[0]!.closeCalls, 1);
  await pool.close();
});

test("a connect that outlives its deadline is closed when it finally arrives", async () => {
  const { pool, clock, connector } = harness({ auto: false, connectTimeoutMs: 100 });
  const lease = pool.lease("r");
  clock.advance(100);
  await assert.rejects(lease, /Connecting to r timed out after 100 ms/);
  const late = connector.completeNext();
  await settle();
  assert.equal(late.closeCalls, 1);
  assert.equal(pool.stats().total.connections, 0);
  await pool.close();
});

test("hooks report connect, lease, release and close in order; a throwing hook is isolated", async () => {
  const { pool, events } = harness();
  const lease = await pool.lease("r");
  lease.release();
  await pool.close();
  assert.deepEqual(events, [
    "connect r #1",
    "lease r #1",
    "release r #1",
    "close r #1 pool-closed",
  ]);

  const thrown: unknown[] = [];
  const { pool: noisy } = harness({
    hooks: {
      lease: () => {
        throw new Error("hook bug");
      },
    },
  });
  const original = globalThis.queueMicrotask;
  globalThis.queueMicrotask = (callback) =>
    original(() => {
      try {
        callback();
      } catch (error) {
        thrown.push(error);
      }
    });
  try {
    const survived = await noisy.lease("r");
    survived.release();
    await settle();
  } finally {
    globalThis.queueMicrotask = original;
  }
  assert.equal((thrown[0] as Error).message, "hook bug");
  assert.equal(noisy.stats().total.leased, 0);
  await noisy.close();
});

test("route keys: strings as given, addresses as host:port", () => {
  assert.equal(routeKey("shuffle-1"), "shuffle-1");
  assert.equal(routeKey({ host: "Example.COM", port: 7337 }), "example.com:7337");
  assert.equal(routeKey({ host: "::1", port: 80 }), "[::1]:80");
  assert.throws(() => routeKey(""), InvalidArgumentError);
  assert.throws(
    () => routeKey({ host: "h", port: 0 }),
    /port must be an integer in 1..65535, received 0/,
  );
  assert.throws(() => routeKey({ host: "", port: 1 }), InvalidArgumentError);
});

test("invalid options are refused with the value received", () => {
  const connector = () => Promise.reject(new Error("unused"));
  assert.throws(
    () => new ConnectionPool({ connector, maxTotal: 0 }),
    /maxTotal must be an integer ≥ 1 or Infinity, received 0/,
  );
  assert.throws(
    () => new ConnectionPool({ connector, maxStreamsPerConnection: 1.5 }),
    InvalidArgumentError,
  );
  assert.throws(
    () => new ConnectionPool({ connector, idleTimeoutMs: -1 }),
    /idleTimeoutMs must be a finite number of milliseconds ≥ 0, received -1/,
  );
  assert.throws(
    () => new ConnectionPool({ connector, reusePolicy: "random" as "lifo" }),
    /reusePolicy must be "lifo" or "fifo", received random/,
  );
  assert.throws(
    () => new ConnectionPool({ connector, routes: { r: { maxPerRoute: -2 } } }),
    /route r: maxPerRoute/,
  );
  assert.throws(
    () => new ConnectionPool({ connector: undefined as never }),
    /options.connector must be a function, received undefined/,
  );
});
