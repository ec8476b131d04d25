/**
 * Spark-style behaviour of the pool (TransportClientFactory): shared multiplexed clients, one
 * connect per slot under a burst, inactive clients replaced, unmanaged clients, fast-fail and
 * jittered backoff after a failed connect.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { ConnectError, InvalidArgumentError } from "../../../src/errors.ts";
import { settle } from "../../helpers/fake-clock.ts";
import { harness, track } from "./pool-harness.ts";

test("a burst of 10 000 concurrent leases to an empty route shares one connect", async () => {
  const { pool, connector } = harness({ auto: false, maxPerRoute: 4 });
  const leases = Array.from({ length: 10_000 }, () => pool.lease("peer:7337"));
  assert.equal(connector.calls.length, 1);
  assert.deepEqual(pool.stats().routes["peer:7337"], {
    leased: 0,
    available: 0,
    pending: 10_000,
    connecting: 1,
    connections: 1,
    max: 4,
  });
  const client = connector.completeNext();
  const granted = await Promise.all(leases);
  assert.ok(granted.every((lease) => lease.client === client));
  assert.equal(pool.stats().total.leased, 10_000);
  for (const lease of granted) lease.release();
  assert.deepEqual(pool.stats().total, {
    leased: 0,
    available: 1,
    pending: 0,
    connecting: 0,
    connections: 1,
    max: 64,
  });
  assert.equal(connector.calls.length, 1);
  await pool.close();
});

test("a burst opens at most maxPerRoute connections and queues the rest in FIFO order", async () => {
  const { pool, connector } = harness({
    auto: false,
    maxPerRoute: 10,
    maxStreamsPerConnection: 100,
  });
  const order: string[] = [];
  const leases = Array.from(
    { length: 10_000 },
    (_, i) => track(order, String(i), pool.lease("peer:1")),
  );
  assert.equal(connector.calls.length, 10, "one connect per slot, never more than the limit");
  const clients = Array.from({ length: 10 }, () => connector.completeNext());
  await settle();
  assert.equal(order.length, 1_000);
  assert.deepEqual(order, Array.from({ length: 1_000 }, (_, i) => `ok ${i}`));
  const first = await leases[0]!;
  assert.ok(clients.includes(first.client));
  const perClient = new Map<unknown, number>();
  for (const lease of await Promise.all(leases.slice(0, 1_000))) {
    perClient.set(lease.client, (perClient.get(lease.client) ?? 0) + 1);
  }
  assert.deepEqual([...perClient.values()], Array(10).fill(100), "100 streams per connection");
  first.release();
  await settle();
  assert.equal(order.at(-1), "ok 1000", "the freed stream goes to the oldest waiter");
  assert.equal((await leases[1_000]!).client, first.client);
  assert.equal(pool.stats().total.pending, 8_999);
  await pool.close();
  assert.equal(order.filter((entry) => entry.endsWith("ERR_POOL_CLOSED")).length, 8_999);
});

test("shared leases pack onto a connection with room before opening another", async () => {
  const { pool, connector } = harness({ maxPerRoute: 3, maxStreamsPerConnection: 2 });
  const a = await pool.lease("r");
  const b = await pool.lease("r");
  const c = await pool.lease("r");
  assert.equal(a.client, b.client);
  assert.notEqual(a.client, c.client);
  a.release();
  const d = await pool.lease("r");
  assert.equal(d.client, c.client, "the partly used connection is preferred to a free slot");
  assert.equal(connector.calls.length, 2);
  await pool.close();
});

test("an inactive client is never handed out: it is closed and replaced", async () => {
  const { pool, connector, events } = harness();
  const first = await pool.lease("r");
  const stale = first.client;
  first.release();
  stale.goStale(); // inactive, though its closed promise has not settled yet
  const second = await pool.lease("r");
  assert.notEqual(second.client, stale);
  assert.equal(stale.closeCalls, 1);
  assert.equal(connector.calls.length, 2);
  assert.ok(events.includes(`close r #${stale.id} inactive`));
  // A shared client in use that goes stale is skipped as well.
  second.client.goStale();
  const third = await pool.lease("r");
  assert.notEqual(third.client, second.client);
  second.release();
  third.release();
  assert.equal(pool.stats().total.connections, 1);
  await pool.close();
});

test("a client whose connection closes leaves the pool at once", async () => {
  const { pool, events } = harness();
  const lease = await pool.lease("r");
  const client = lease.client;
  lease.release();
  client.die();
  await settle();
  assert.equal(pool.stats().total.connections, 0);
  assert.ok(events.includes(`close r #${client.id} inactive`));
  await pool.close();
});

test("client() hands out the shared client without holding a lease", async () => {
  const { pool, connector } = harness({ maxPerRoute: 2 });
  const one = await pool.client("r");
  const two = await pool.client({ host: "R", port: 1 });
  const three = await pool.client("r");
  assert.equal(one, three);
  assert.notEqual(one, two);
  assert.equal(pool.stats().total.leased, 0);
  assert.equal(connector.calls.length, 2);
  await pool.close();
});

test("client() refuses routes whose connections are exclusive", async () => {
  const { pool } = harness({ routes: { excl: { maxStreamsPerConnection: 1 } } });
  await assert.rejects(pool.client("excl"), InvalidArgumentError);
  await pool.close();
});

test("unmanaged clients are opened on demand and never pooled or counted", async () => {
  const { pool, connector } = harness({ maxTotal: 1 });
  const a = await pool.unmanagedClient("r");
  const b = await pool.unmanagedClient("r");
  assert.notEqual(a, b);
  assert.equal(connector.calls.length, 2);
  assert.equal(pool.stats().total.connections, 0);
  const lease = await pool.lease("r");
  assert.notEqual(lease.client, a);
  lease.release();
  await pool.close();
  assert.equal(a.closeCalls, 0, "the caller owns unmanaged clients");
});

test("a failed connect fails every lease sharing it with the cause", async () => {
  const { pool, connector } = harness({ auto: false });
  const cause = new ConnectError("connection refused");
  const a = pool.lease("r");
  const b = pool.lease("r");
  connector.failNext(cause);
  await assert.rejects(a, (error) => error === cause);
  await assert.rejects(b, (error) => error === cause);
  assert.equal(pool.stats().total.connections, 0);
  await pool.close();
});

test("after a failed connect, new connects fail fast for a growing window", async () => {
  const { pool, connector, clock } = harness({
    auto: false,
    connectBackoff: { initialMs: 200, maxMs: 1_000, jitter: 0.5 },
  });
  const cause = new ConnectError("refused");
  const first = pool.lease("r");
  connector.failNext(cause);
  await assert.rejects(first);
  await assert.rejects(pool.lease("r"), (error: unknown) => {
    assert.ok(error instanceof ConnectError);
    assert.equal(error.cause, cause);
    assert.match(error.message, /Connecting to r failed 0 ms ago .*failing fast .* 200 ms/);
    return true;
  });
  assert.equal(connector.calls.length, 1, "no connect while failing fast");
  clock.advance(199);
  await assert.rejects(pool.lease("r"), ConnectError);
  assert.equal(connector.calls.length, 1);
  clock.advance(1);
  const second = pool.lease("r");
  assert.equal(connector.calls.length, 2, "the window is over: one real attempt");
  connector.failNext(cause);
  await assert.rejects(second);
  clock.advance(399);
  await assert.rejects(pool.lease("r"), /failing fast .* 1 ms/);
  clock.advance(1);
  const third = pool.lease("r");
  const client = connector.completeNext();
  assert.equal((await third).client, client);
  (await third).release();
  await pool.close();
});

test("backoff windows are jittered and capped", async () => {
  let random = 0.999;
  const { pool, connector, clock } = harness({
    auto: false,
    random: () => random,
    connectBackoff: { initialMs: 1_000, maxMs: 2_000, jitter: 0.5 },
  });
  const attempt = async () => {
    const lease = pool.lease("r");
    connector.failNext(new ConnectError("refused"));
    await assert.rejects(lease);
  };
  await attempt();
  clock.advance(499);
  await assert.rejects(pool.lease("r"), /failing fast/);
  clock.advance(2); // 1000 × (1 − 0.5 × 0.999) ≈ 500.5
  random = 0;
  await attempt(); // second failure, no jitter: 2000
  clock.advance(1_999);
  await assert.rejects(pool.lease("r"), /failing fast/);
  clock.advance(1);
  await attempt(); // third failure: 4000 capped to 2000
  clock.advance(1_999);
  await assert.rejects(pool.lease("r"), /failing fast/);
  assert.equal(connector.calls.length, 3);
  await pool.close();
});

test("waiters queued behind a dead peer fail fast instead of reconnecting one by one", async () => {
  const { pool, connector } = harness({
    auto: false,
    maxPerRoute: 1,
    maxStreamsPerConnection: 1,
  });
  const order: string[] = [];
  const leases = Array.from({ length: 5 }, (_, i) => track(order, `w${i}`, pool.lease("r")));
  connector.failNext(new ConnectError("refused"));
  await Promise.allSettled(leases);
  assert.equal(connector.calls.length, 1);
  assert.deepEqual(order, [
    "err w0 ERR_CONNECT",
    "err w1 ERR_CONNECT",
    "err w2 ERR_CONNECT",
    "err w3 ERR_CONNECT",
    "err w4 ERR_CONNECT",
  ]);
  await pool.close();
});

test("connectBackoff: false disables fast-fail", async () => {
  const { pool, connector } = harness({ auto: false, connectBackoff: false });
  const first = pool.lease("r");
  connector.failNext(new ConnectError("refused"));
  await assert.rejects(first);
  const second = pool.lease("r");
  assert.equal(connector.calls.length, 2);
  connector.completeNext();
  (await second).release();
  await pool.close();
});
