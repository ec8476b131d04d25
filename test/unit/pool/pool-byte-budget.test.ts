/**
 * The per-peer byte budget for chunk fetches in flight, and the list and deadline structures the
 * pool is built on.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError, TimeoutError } from "../../../src/errors.ts";
import { ByteBudget } from "../../../src/pool/byte-budget.ts";
import { DeadlineQueues, type Expirable } from "../../../src/pool/deadline-queue.ts";
import { IntrusiveList, ListNode } from "../../../src/pool/intrusive-list.ts";
import { FakeClock, settle } from "../../helpers/fake-clock.ts";
import { harness, track } from "./pool-harness.ts";

test("reservations are granted while they fit, then in FIFO order as bytes come back", async () => {
  const budget = new ByteBudget(100, { clock: new FakeClock(), name: "peer:1" });
  const a = await budget.reserve(60);
  const b = await budget.reserve(40);
  assert.equal(budget.inFlight, 100);
  const order: string[] = [];
  const c = track(order, "c50", budget.reserve(50));
  const d = track(order, "d10", budget.reserve(10)); // fits after c only: no overtaking
  assert.equal(budget.tryReserve(0), undefined, "nobody jumps the queue, not even 0 bytes");
  await settle();
  assert.deepEqual(order, []);
  b.release();
  await settle();
  assert.deepEqual(order, [], "40 free is not enough for c's 50");
  a.release();
  a.release(); // idempotent
  await settle();
  assert.deepEqual(order, ["ok c50", "ok d10"]);
  assert.equal(budget.inFlight, 60);
  (await c).release();
  (await d).release();
  assert.equal(budget.inFlight, 0);
});

test("a reservation larger than the whole budget is granted alone", async () => {
  const budget = new ByteBudget(100, { clock: new FakeClock() });
  const small = await budget.reserve(10);
  const order: string[] = [];
  const huge = track(order, "huge", budget.reserve(1_000));
  const after = track(order, "after", budget.reserve(1));
  await settle();
  assert.deepEqual(order, []);
  small.release();
  await settle();
  assert.deepEqual(order, ["ok huge"]);
  assert.equal(budget.inFlight, 1_000);
  (await huge).release();
  await settle();
  assert.deepEqual(order, ["ok huge", "ok after"]);
  (await after).release();
});

test("a reservation times out or aborts and leaves the queue", async () => {
  const clock = new FakeClock();
  const budget = new ByteBudget(10, { clock, name: "peer:2" });
  const held = await budget.reserve(10);
  const timed = budget.reserve(5, { timeoutMs: 100 });
  const controller = new AbortController();
  const aborted = budget.reserve(5, { signal: controller.signal });
  const later = budget.reserve(10);
  assert.equal(budget.waiting, 3);
  clock.advance(100);
  await assert.rejects(timed, (error: unknown) => {
    assert.ok(error instanceof TimeoutError);
    assert.match(
      error.message,
      /Reserving 5 bytes of the in-flight budget for peer:2 timed out after 100 ms \(10 of 10 bytes in flight/,
    );
    return true;
  });
  controller.abort(new Error("stop"));
  await assert.rejects(aborted, /stop/);
  assert.equal(budget.waiting, 1);
  held.release();
  (await later).release();
  assert.equal(clock.pendingTimers, 0);
});

test("bad sizes are refused with the value received", async () => {
  const budget = new ByteBudget(10);
  await assert.rejects(budget.reserve(-1), /expected an integer ≥ 0, received -1/);
  assert.throws(() => budget.tryReserve(1.5), InvalidArgumentError);
  assert.throws(() => new ByteBudget(0), /maxBytes must be an integer ≥ 1 or Infinity, received 0/);
});

test("the pool keeps one budget per route and fails its waiters on close", async () => {
  const { pool } = harness({ maxBytesInFlight: 100, routes: { big: { maxBytesInFlight: 1_000 } } });
  const budget = pool.byteBudget("r");
  assert.equal(pool.byteBudget("r"), budget);
  assert.equal(budget.maxBytes, 100);
  assert.equal(pool.byteBudget("big").maxBytes, 1_000);
  const held = await budget.reserve(100);
  const waiting = budget.reserve(1);
  await pool.close();
  await assert.rejects(
    waiting,
    (error: unknown) => (error as { code: string }).code === "ERR_POOL_CLOSED",
  );
  held.release();
  assert.throws(() => pool.byteBudget("r"), /the pool is closed/);
});

test("intrusive list: O(1) removal from anywhere, order kept", () => {
  const list = new IntrusiveList<string>();
  const nodes = ["a", "b", "c", "d"].map((value) => new ListNode(value));
  for (const node of nodes) list.push(node);
  assert.equal(list.remove(nodes[1]!), true);
  assert.equal(list.remove(nodes[1]!), false);
  list.unshift(nodes[1]!);
  assert.deepEqual([...list], ["b", "a", "c", "d"]);
  assert.equal(list.pop(), "d");
  assert.equal(list.shift(), "b");
  assert.throws(() => list.push(nodes[0]!), /already in a list/);
  assert.deepEqual(list.drain(), ["a", "c"]);
  assert.equal(list.size, 0);
  assert.equal(list.first, null);
  list.push(nodes[0]!);
  assert.equal(list.last!.value, "a");
});

test("deadline queues with batched clock reads: stamped once per microtask, never early", async () => {
  let time = 0;
  const reads: number[] = [];
  const timers: { at: number; run: () => void }[] = [];
  const clock = {
    now: () => (reads.push(time), time),
    setTimer: (run: () => void, delay: number) => timers.push({ at: time + delay, run }),
    clearTimer: () => {},
  };
  const expired: string[] = [];
  const queues = new DeadlineQueues<Expirable & { name: string }>(
    clock,
    (item) => expired.push(`${item.name}@${time}`),
    { batchClockReads: true },
  );
  const entry = (name: string) => ({
    name,
    deadline: 0,
    deadlinePrev: null,
    deadlineNext: null,
    deadlineQueue: null,
  });
  const a = entry("a");
  const b = entry("b");
  const c = entry("c");
  queues.add(a, 100); // empty queue: stamped at once, timer armed
  assert.equal(a.deadline, 100);
  time = 5;
  const readsBefore = reads.length;
  queues.add(b, 100);
  queues.add(c, 100);
  assert.ok(Number.isNaN(b.deadline), "not stamped yet");
  assert.equal(reads.length, readsBefore, "no clock read on add");
  time = 7;
  await Promise.resolve();
  assert.equal(reads.length, readsBefore + 1, "one read for the whole batch");
  assert.equal(b.deadline, 107, "stamped after arrival (5): late, never early");
  assert.equal(c.deadline, 107);
  time = 100;
  timers.shift()!.run();
  assert.deepEqual(expired, ["a@100"]);
  time = 107;
  timers.shift()!.run();
  assert.deepEqual(expired, ["a@100", "b@107", "c@107"]);
});
