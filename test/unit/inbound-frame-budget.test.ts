/**
 * InboundFrameBudget (src/connection/inbound-frame-budget.ts): charges up to its limit, queues
 * waiters in arrival order (a small frame does not overtake a large one), grants by reserving on
 * the waiter's behalf and calling it in a microtask, and refuses a wait that could never be
 * granted.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { InboundFrameBudget } from "../../src/connection/inbound-frame-budget.ts";
import { InvalidArgumentError } from "../../src/errors.ts";

const tick = () => new Promise<void>((resolve) => queueMicrotask(resolve));

test("charges up to the limit and releases", () => {
  const budget = new InboundFrameBudget(100);
  assert.equal(budget.tryReserve(60), true);
  assert.equal(budget.tryReserve(50), false);
  assert.equal(budget.tryReserve(40), true);
  assert.equal(budget.reserved, 100);
  budget.release(60);
  assert.equal(budget.reserved, 40);
  assert.equal(budget.peak, 100);
});

test("waiters are granted in arrival order, in a microtask, with their bytes reserved", async () => {
  const budget = new InboundFrameBudget(100);
  const granted: string[] = [];
  budget.tryReserve(90);
  budget.wait({ size: 80, granted: () => granted.push("large") });
  // A small frame that would fit in the 10 bytes left waits behind the large one.
  assert.equal(budget.tryReserve(10), false);
  budget.wait({ size: 10, granted: () => granted.push("small") });
  assert.equal(budget.waiting, 2);
  budget.release(90);
  assert.deepEqual(granted, [], "never called synchronously from release");
  await tick();
  assert.deepEqual(granted, ["large", "small"]);
  assert.equal(budget.reserved, 90);
  assert.equal(budget.waiting, 0);
});

test("a cancelled head lets the waiters behind it through", async () => {
  const budget = new InboundFrameBudget(100);
  const granted: string[] = [];
  budget.tryReserve(50);
  const head = { size: 80, granted: () => granted.push("head") };
  budget.wait(head);
  budget.wait({ size: 30, granted: () => granted.push("next") });
  budget.cancel(head);
  await tick();
  assert.deepEqual(granted, ["next"]);
  assert.equal(budget.reserved, 80);
});

test("a wait larger than the whole budget is refused, and bad limits too", () => {
  const budget = new InboundFrameBudget(100);
  assert.throws(
    () => budget.wait({ size: 101, granted: () => {} }),
    (error: unknown) =>
      error instanceof InvalidArgumentError && /maxInboundFrameBytes/.test(error.message),
  );
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => new InboundFrameBudget(bad), InvalidArgumentError);
  }
});
