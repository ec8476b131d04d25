/**
 * `watchDeadline` and `startCloseTimer` (src/deadline.ts) on an injected clock: a deadline fires
 * when the clock reaches it and not a millisecond earlier, a disposed deadline leaves no timer, and
 * a graceful close's bound says which connection did not finish closing. No real time passes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startCloseTimer, watchDeadline } from "../../src/deadline.ts";
import { TimeoutError } from "../../src/errors.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

test("watchDeadline fires on its clock at the deadline, once, and leaves no timer", () => {
  const clock = new FakeClock();
  const expired: unknown[] = [];
  watchDeadline({ timeoutMs: 50 }, "export job", (error) => expired.push(error), clock);
  assert.equal(clock.pendingTimers, 1);
  clock.advance(49);
  assert.equal(expired.length, 0);
  clock.advance(1);
  assert.equal(expired.length, 1);
  assert.ok(expired[0] instanceof TimeoutError);
  assert.match((expired[0] as Error).message, /^export job timed out after 50 ms$/);
  clock.advance(1_000);
  assert.equal(expired.length, 1);
  assert.equal(clock.pendingTimers, 0);
});

test("a disposed or aborted deadline clears its timer on the clock it armed it on", () => {
  const clock = new FakeClock();
  const expired: unknown[] = [];
  const dispose = watchDeadline({ timeoutMs: 50 }, "a", (error) => expired.push(error), clock);
  dispose();
  assert.equal(clock.pendingTimers, 0);
  const controller = new AbortController();
  watchDeadline(
    { timeoutMs: 50, signal: controller.signal },
    "b",
    (error) => expired.push(error),
    clock,
  );
  const reason = new Error("stop");
  controller.abort(reason);
  assert.equal(clock.pendingTimers, 0);
  clock.advance(100);
  assert.deepEqual(expired, [reason]);
});

test("startCloseTimer bounds a graceful close on the injected clock", () => {
  const clock = new FakeClock();
  const errors: TimeoutError[] = [];
  const info = { transport: "tcp", remoteAddress: "10.0.0.1:7337" };
  const handle = startCloseTimer(info, 2_000, "waiting for the peer's end", (error) => {
    errors.push(error);
  }, clock);
  clock.advance(1_999);
  assert.equal(errors.length, 0);
  clock.advance(1);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.timeoutMs, 2_000);
  assert.match(
    errors[0]!.message,
    /graceful close of tcp connection to 10\.0\.0\.1:7337 did not finish within 2000 ms \(waiting for the peer's end\)/,
  );
  const cancelled = startCloseTimer(info, 10, "x", (error) => errors.push(error), clock);
  clock.clearTimer(cancelled);
  clock.advance(100);
  assert.equal(errors.length, 1);
  assert.ok(handle !== cancelled);
});
