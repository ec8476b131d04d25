/**
 * Request deadlines without a timer per request (src/client/request-deadlines.ts): one timer per
 * client, each request still expiring at its own time, settled requests leaving nothing behind.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ReplyDeadline } from "../../src/connection/pending-reply.ts";
import { ClosureDeadline, RequestDeadlines } from "../../src/client/request-deadlines.ts";
import { ConnectionClosedError, RemoteError, TimeoutError } from "../../src/errors.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { serve, settle, text, utf8 } from "../helpers/engine-fixtures.ts";

/** A watched request: what expired it, if anything. */
function request(
  deadlines: RequestDeadlines,
  name: string,
  timeoutMs: number,
  signal?: AbortSignal,
) {
  const reply: { deadline: ReplyDeadline | undefined } = { deadline: undefined };
  const outcome: { error?: unknown } = {};
  const deadline = new ClosureDeadline(reply, name, (error) => (outcome.error = error));
  deadlines.watch(deadline, timeoutMs, signal);
  return { outcome, settle: () => reply.deadline?.dispose() };
}

const timedOut = (outcome: { error?: unknown }, what: string, ms: number) => {
  assert.ok(outcome.error instanceof TimeoutError, String(outcome.error));
  assert.equal(outcome.error.message, `${what} timed out after ${ms} ms`);
  assert.equal(outcome.error.timeoutMs, ms);
};

test("requests of several timeouts share one timer and each expires at its own time", () => {
  const clock = new FakeClock();
  const deadlines = new RequestDeadlines(clock);
  const a = request(deadlines, "a", 10);
  const b = request(deadlines, "b", 5);
  clock.advance(3);
  const c = request(deadlines, "c", 10);
  assert.equal(clock.pendingTimers, 1);
  clock.advance(1);
  assert.deepEqual([a, b, c].map((r) => "error" in r.outcome), [false, false, false]);
  clock.advance(1); // t = 5
  timedOut(b.outcome, "b", 5);
  assert.deepEqual([a, c].map((r) => "error" in r.outcome), [false, false]);
  clock.advance(5); // t = 10
  timedOut(a.outcome, "a", 10);
  assert.equal("error" in c.outcome, false, "c was sent 3 ms later");
  clock.advance(2);
  assert.equal("error" in c.outcome, false);
  clock.advance(1); // t = 13
  timedOut(c.outcome, "c", 10);
  assert.equal(clock.pendingTimers, 0);
  assert.equal(deadlines.size, 0);
});

test("a settled request never expires; the timer goes once nothing is watched", async () => {
  const clock = new FakeClock();
  const deadlines = new RequestDeadlines(clock);
  const early = request(deadlines, "early", 5);
  const late = request(deadlines, "late", 5);
  early.settle();
  early.settle(); // idempotent
  clock.advance(5);
  assert.equal("error" in early.outcome, false);
  timedOut(late.outcome, "late", 5);
  // One at a time: the next request, sent as the previous one settles, reuses the timer.
  const armedBefore = clock.armed;
  for (let i = 0; i < 100; i++) request(deadlines, `r${i}`, 1_000).settle();
  const last = request(deadlines, "last", 1_000);
  assert.equal(clock.armed - armedBefore, 1, "one timer for 101 requests sent one at a time");
  last.settle();
  assert.equal(clock.pendingTimers, 1, "kept until the microtask");
  await Promise.resolve();
  assert.equal(clock.pendingTimers, 0, "cleared once nothing is watched");
  assert.equal(deadlines.size, 0);
});

test("a signal expires its request with its reason; a settled request's listener is removed", () => {
  const clock = new FakeClock();
  const deadlines = new RequestDeadlines(clock);
  const controller = new AbortController();
  const aborted = request(deadlines, "aborted", 0, controller.signal);
  const both = request(deadlines, "both", 50, controller.signal);
  const settled = request(deadlines, "settled", 0, controller.signal);
  settled.settle();
  const reason = new Error("stop");
  controller.abort(reason);
  assert.equal(aborted.outcome.error, reason);
  assert.equal(both.outcome.error, reason);
  assert.equal("error" in settled.outcome, false);
  assert.equal(deadlines.size, 0, "the aborted request left its timeout list");
  const already = request(deadlines, "already", 50, controller.signal);
  assert.equal(already.outcome.error, reason, "an aborted signal expires at once");
  assert.equal(deadlines.size, 0);
});

test("a client's RPCs with deadlines arm one timer, and none is left once they have replied", async () => {
  const clock = new FakeClock();
  const served = serve({ rpcHandler: { receive: (_client, message) => message } }, { clock });
  try {
    // Without deadlines first: what the connection arms of its own (connectionTimeoutMs).
    await Promise.all([served.client.sendRpc(utf8("first")), served.client.sendRpc(utf8("x"))]);
    await settle();
    const before = clock.pendingTimers;
    const armedBefore = clock.armed;
    const replies = Array.from(
      { length: 300 },
      (_, i) => served.client.sendRpc(utf8(`m${i}`), { timeoutMs: 1_000 }),
    );
    // The deadlines' one timer, and the connection's own (its connectionTimeoutMs while busy).
    assert.ok(clock.armed - armedBefore <= 2, `${clock.armed - armedBefore} timers for 300 RPCs`);
    assert.ok(clock.pendingTimers - before <= 1, "at most the deadlines' timer added");
    const texts = (await Promise.all(replies)).map(text);
    assert.deepEqual(texts, Array.from({ length: 300 }, (_, i) => `m${i}`));
    await settle();
    assert.equal(clock.pendingTimers, before);
    clock.advance(2_000);
    assert.equal(served.client.stats().droppedReplies, 0);
  } finally {
    await served.close();
  }
});

test("an RPC with a deadline or signal fails like any other: remote error, abort, close", async () => {
  const clock = new FakeClock();
  const served = serve({
    rpcHandler: {
      receive: (_client, message) => {
        if (text(message) === "fail") throw new Error("refused");
        if (text(message) === "hang") return new Promise<Uint8Array>(() => {});
        return message;
      },
    },
  }, { clock });
  try {
    const controller = new AbortController();
    const options = { timeoutMs: 1_000, signal: controller.signal };
    const failed = await served.client.sendRpc(utf8("fail"), options).catch((error) => error);
    assert.ok(failed instanceof RemoteError, String(failed));
    assert.equal(text(await served.client.sendRpc(utf8("ok"), options)), "ok");
    const aborted = served.client.sendRpc(utf8("hang"), options).catch((error) => error);
    const reason = new Error("caller gave up");
    controller.abort(reason);
    assert.equal(await aborted, reason);
    const closed = served.client.sendRpc(utf8("hang"), { timeoutMs: 1_000 }).catch((e) => e);
    await settle();
    await served.client.close();
    assert.ok(await closed instanceof ConnectionClosedError);
    clock.advance(2_000); // nothing left to expire
    assert.equal(served.client.stats().inFlight.total, 0);
  } finally {
    await served.close();
  }
});
