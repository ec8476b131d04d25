/**
 * HttpClient-style behaviour of the pool (PoolingHttpClientConnectionManager): exclusive leases
 * under maxTotal and maxPerRoute, FIFO waiters, deadlines and abort, reuse policy, stats.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "../../../src/errors.ts";
import { PoolTimeoutError } from "../../../src/pool/pool-errors.ts";
import { PoolClosedError } from "../../../src/pool/pool-errors.ts";
import { settle } from "../../helpers/fake-clock.ts";
import { harness, track } from "./pool-harness.ts";

const exclusive = { maxStreamsPerConnection: 1 } as const;

test("exclusive leases: per-route limit, then FIFO waiters", async () => {
  const { pool, connector } = harness({ ...exclusive, maxPerRoute: 2 });
  const order: string[] = [];
  const leases = Array.from({ length: 5 }, (_, i) => track(order, `w${i}`, pool.lease("r")));
  await settle();
  assert.deepEqual(order, ["ok w0", "ok w1"]);
  assert.equal(connector.calls.length, 2);
  assert.notEqual((await leases[0]!).client, (await leases[1]!).client);
  assert.deepEqual(pool.stats().routes["r"], {
    leased: 2,
    available: 0,
    pending: 3,
    connecting: 0,
    connections: 2,
    max: 2,
  });
  (await leases[1]!).release();
  (await leases[0]!).release();
  await settle();
  assert.deepEqual(order, ["ok w0", "ok w1", "ok w2", "ok w3"]);
  assert.equal((await leases[2]!).client, (await leases[1]!).client, "handed straight over");
  (await leases[3]!).release();
  await settle();
  assert.equal(order.at(-1), "ok w4");
  assert.equal(connector.calls.length, 2);
  await pool.close();
});

test("waiters are served FIFO across routes when maxTotal is the limit", async () => {
  const { pool, connector, events } = harness({ ...exclusive, maxTotal: 2, maxPerRoute: 2 });
  const a1 = await pool.lease("a");
  const a2 = await pool.lease("a");
  const order: string[] = [];
  const b1 = track(order, "b1", pool.lease("b"));
  const a3 = track(order, "a3", pool.lease("a"));
  const b2 = track(order, "b2", pool.lease("b"));
  await settle();
  assert.deepEqual(order, []);
  assert.equal(pool.stats().total.pending, 3);
  a1.release(); // b1 is older than a3: a's connection makes room for b
  await settle();
  assert.deepEqual(order, ["ok b1"]);
  assert.ok(events.includes(`close a #${a1.client.id} evicted-for-other-route`));
  a2.release(); // a3 is older than b2 and can reuse a's connection directly
  await settle();
  assert.deepEqual(order, ["ok b1", "ok a3"]);
  assert.equal((await a3).client, a2.client);
  (await b1).release(); // b2 reuses b's connection
  await settle();
  assert.deepEqual(order, ["ok b1", "ok a3", "ok b2"]);
  assert.equal((await b2).client, (await b1).client);
  assert.equal(connector.calls.length, 3);
  await pool.close();
});

test("maxTotal: an idle connection of another route is closed to make room", async () => {
  const { pool, events } = harness({ ...exclusive, maxTotal: 1 });
  const a = await pool.lease("a");
  a.release();
  const b = await pool.lease("b");
  assert.ok(events.includes(`close a #${a.client.id} evicted-for-other-route`));
  assert.deepEqual(Object.keys(pool.stats().routes), ["b"], "a's state is forgotten");
  b.release();
  await pool.close();
});

test("a lease that times out fails with PoolTimeoutError and leaves the queue", async () => {
  const { pool, clock } = harness({ ...exclusive, maxPerRoute: 1 });
  const held = await pool.lease("r");
  const order: string[] = [];
  const late = track(order, "late", pool.lease("r", { timeoutMs: 100 }));
  const patient = track(order, "patient", pool.lease("r"));
  clock.advance(99);
  await settle();
  assert.deepEqual(order, []);
  clock.advance(1);
  await assert.rejects(late, (error: unknown) => {
    assert.ok(error instanceof PoolTimeoutError);
    assert.equal(error.code, "ERR_POOL_TIMEOUT");
    assert.equal(error.timeoutMs, 100);
    assert.match(
      error.message,
      /Leasing a connection to r timed out after 100 ms \(route: 1 leased/,
    );
    return true;
  });
  assert.equal(pool.stats().routes["r"]!.pending, 1);
  held.release();
  assert.equal((await patient).client, held.client);
  assert.deepEqual(order, ["err late ERR_POOL_TIMEOUT", "ok patient"]);
  (await patient).release();
  await pool.close();
});

test("the pool's leaseTimeoutMs applies when a lease names none; 0 waits forever", async () => {
  const { pool, clock } = harness({ ...exclusive, maxPerRoute: 1, leaseTimeoutMs: 50 });
  const held = await pool.lease("r");
  const defaulted = pool.lease("r");
  const forever = pool.lease("r", { timeoutMs: 0 });
  clock.advance(50);
  await assert.rejects(defaulted, PoolTimeoutError);
  clock.advance(1_000_000);
  held.release();
  (await forever).release();
  await assert.rejects(pool.lease("r", { timeoutMs: -1 }), InvalidArgumentError);
  await pool.close();
});

test("waiters sharing a timeout share one timer; the fast path arms none", async () => {
  const { pool, clock } = harness({ ...exclusive, maxPerRoute: 1, leaseTimeoutMs: 30_000 });
  const held = await pool.lease("r");
  held.release();
  const armedBefore = clock.armed;
  for (let i = 0; i < 100; i++) (await pool.lease("r")).release();
  assert.equal(clock.armed, armedBefore, "an available connection arms no timer");
  const busy = await pool.lease("r");
  const waiting = Array.from({ length: 1_000 }, () => pool.lease("r"));
  assert.equal(clock.pendingTimers, 1);
  clock.advance(30_000);
  const outcomes = await Promise.allSettled(waiting);
  assert.ok(outcomes.every((o) => o.status === "rejected" && o.reason instanceof PoolTimeoutError));
  assert.equal(clock.pendingTimers, 0);
  busy.release();
  await pool.close();
});

test("an aborted lease fails with the signal's reason and leaves the queue", async () => {
  const { pool } = harness({ ...exclusive, maxPerRoute: 1 });
  const held = await pool.lease("r");
  const controller = new AbortController();
  const order: string[] = [];
  const aborted = track(order, "aborted", pool.lease("r", { signal: controller.signal }));
  const next = track(order, "next", pool.lease("r"));
  const reason = new Error("caller gave up");
  controller.abort(reason);
  await assert.rejects(aborted, (error) => error === reason);
  assert.equal(pool.stats().total.pending, 1);
  const already = AbortSignal.abort(new Error("before"));
  await assert.rejects(pool.lease("r", { signal: already }), /before/);
  held.release();
  (await next).release();
  assert.deepEqual(order, ["err aborted caller gave up", "ok next"]);
  await pool.close();
});

test("a waiter that gives up on a connect in progress frees its place on that connect", async () => {
  const { pool, connector, clock } = harness({ ...exclusive, auto: false, maxPerRoute: 1 });
  const first = pool.lease("r", { timeoutMs: 10 });
  const second = pool.lease("r");
  clock.advance(10);
  await assert.rejects(first, PoolTimeoutError);
  const client = connector.completeNext();
  assert.equal((await second).client, client, "the connect opened for the first serves the second");
  assert.equal(connector.calls.length, 1);
  (await second).release();
  await pool.close();
});

test("reuse policy: lifo takes the most recently released connection, fifo the oldest", async () => {
  for (const reusePolicy of ["lifo", "fifo"] as const) {
    const { pool } = harness({ ...exclusive, reusePolicy });
    const a = await pool.lease("r");
    const b = await pool.lease("r");
    a.release();
    b.release();
    const next = await pool.lease("r");
    assert.equal(next.client, reusePolicy === "lifo" ? b.client : a.client, reusePolicy);
    next.release();
    await pool.close();
  }
});

test("release(false) closes the connection instead of reusing it; double release is a no-op", async () => {
  const { pool, events } = harness({ ...exclusive });
  const lease = await pool.lease("r");
  lease.release(false);
  lease.release(true);
  assert.equal(lease.released, true);
  assert.equal(lease.client.closeCalls, 1);
  assert.equal(pool.stats().total.connections, 0);
  assert.deepEqual(events, [
    "connect r #1",
    "lease r #1",
    "release r #1 broken",
    "close r #1 not-reusable",
  ]);
  await pool.close();
});

test("await using releases the lease", async () => {
  const { pool } = harness();
  {
    await using lease = await pool.lease("r");
    assert.equal(pool.stats().total.leased, 1);
    assert.equal(lease.routeKey, "r");
  }
  assert.equal(pool.stats().total.leased, 0);
  {
    using lease = await pool.lease("r");
    assert.equal(lease.released, false);
  }
  assert.equal(pool.stats().total.available, 1);
  await pool.close();
});

test("setRouteOptions raises a route's limit and serves its waiters at once", async () => {
  const { pool } = harness({ ...exclusive, maxPerRoute: 1 });
  const held = await pool.lease("r");
  const waiting = pool.lease("r");
  pool.setRouteOptions("r", { maxPerRoute: 2 });
  const granted = await waiting;
  assert.notEqual(granted.client, held.client);
  assert.equal(pool.stats().routes["r"]!.max, 2);
  assert.throws(() => pool.setRouteOptions("r", { maxPerRoute: 0 }), InvalidArgumentError);
  held.release();
  granted.release();
  await pool.close();
});

test("close() rejects waiters, closes every connection and leaves no timer", async () => {
  const { pool, connector, clock } = harness({
    ...exclusive,
    auto: false,
    maxPerRoute: 1,
    idleTimeoutMs: 1_000,
    leaseTimeoutMs: 5_000,
  });
  const opening = pool.lease("a");
  const queued = pool.lease("a");
  const connecting = pool.lease("b");
  const aClient = connector.completeNext();
  const leased = await opening;
  assert.equal(leased.client, aClient);
  const signal = connector.pending[0]!.options.signal!;
  await pool.close();
  await assert.rejects(queued, PoolClosedError);
  await assert.rejects(
    connecting,
    (error: unknown) => (error as PoolClosedError).code === "ERR_POOL_CLOSED",
  );
  assert.equal(signal.aborted, true, "the connect in progress was aborted");
  assert.equal(aClient.closeCalls, 1, "leased connections are closed too");
  assert.equal(clock.pendingTimers, 0);
  assert.equal(pool.stats().total.connections, 0);
  await assert.rejects(pool.lease("a"), PoolClosedError);
  leased.release(); // after close: a no-op
  assert.equal(await pool.close(), undefined, "idempotent");
});
