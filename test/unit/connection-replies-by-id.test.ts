/**
 * RepliesById: the ring (this side's sequential Smi ids) plus map (anything else) behaves exactly
 * like a Map keyed by the exact int64 value, whatever the ids: a model-based property test, plus
 * the cases that matter on the wire (colliding slots, a straggler lapped by the sequence, ids that
 * differ only above 2^30 or 2^53, bigints, negatives).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { RepliesById } from "../../src/connection/replies-by-id.ts";
import type { Int64 } from "../../src/protocol/messages.ts";
import { FUZZ_SEED, int64Arb } from "./protocol/message-arbitraries.ts";

test("ids that share a ring slot, lapped stragglers and non-ring ids are all matched exactly", () => {
  const replies = new RepliesById<string>();
  const ids: Int64[] = [
    5,
    5 + 256,
    5 + (1 << 17),
    5 + (1 << 20),
    2 ** 30 + 5,
    2 ** 32 + 5,
    -5,
    2n ** 62n + 5n,
    0,
  ];
  for (const id of ids) replies.set(id, `v${String(id)}`);
  assert.equal(replies.size, ids.length);
  for (const id of ids) assert.equal(replies.get(id), `v${String(id)}`);
  // Close but different values never match.
  for (const id of [6, 262, 2 ** 30 + 6, 2n ** 62n + 6n, 5.5, -6]) {
    assert.equal(replies.get(id), undefined);
  }
  assert.equal(replies.take(5 + 256), "v261");
  assert.equal(replies.take(5 + 256), undefined);
  assert.equal(replies.get(5), "v5");
  assert.equal(replies.size, ids.length - 1);
  assert.deepEqual(
    new Set(replies.drain()),
    new Set(ids.filter((id) => id !== 261).map((id) => `v${String(id)}`)),
  );
  assert.equal(replies.size, 0);
  assert.equal(replies.get(5), undefined);
});

test("a long sequential window (as a busy client has) and a straggler it laps", () => {
  const replies = new RepliesById<number>();
  const straggler = 1000;
  replies.set(straggler, -1);
  let next = 1001;
  let oldest = 1001;
  // 70 000 more requests with 3 000 in flight: the sequence passes the straggler's slot many times.
  for (let i = 0; i < 70_000; i++) {
    replies.set(next, next);
    next++;
    if (next - oldest > 3000) {
      assert.equal(replies.take(oldest), oldest);
      oldest++;
    }
  }
  assert.equal(replies.get(straggler), -1);
  assert.equal(replies.size, next - oldest + 1);
  for (let id = oldest; id < next; id++) assert.equal(replies.get(id), id);
  assert.equal(replies.take(straggler), -1);
});

test("behaves like a Map keyed by the exact int64 (model-based)", () => {
  const smallId = fc.integer({ min: 0, max: 5000 });
  const idArb = fc.oneof(
    smallId,
    smallId.map((id) => id + 256),
    smallId.map((id) => id + (1 << 17)),
    int64Arb,
  );
  const op = fc.oneof(
    fc.record({ kind: fc.constant("set" as const), id: idArb }),
    fc.record({ kind: fc.constant("take" as const), id: idArb }),
    fc.record({ kind: fc.constant("get" as const), id: idArb }),
    fc.record({ kind: fc.constant("drain" as const) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const replies = new RepliesById<object>();
      const model = new Map<Int64, object>();
      for (const step of ops) {
        if (step.kind === "drain") {
          assert.deepEqual(new Set(replies.drain()), new Set(model.values()));
          model.clear();
        } else if (step.kind === "set") {
          if (model.has(step.id)) continue; // ids are unique among requests in flight
          const value = { id: step.id };
          replies.set(step.id, value);
          model.set(step.id, value);
        } else if (step.kind === "take") {
          assert.equal(replies.take(step.id), model.get(step.id));
          model.delete(step.id);
        } else {
          assert.equal(replies.get(step.id), model.get(step.id));
        }
        assert.equal(replies.size, model.size);
      }
    }),
    { seed: FUZZ_SEED, numRuns: 500 },
  );
});

test("a table nobody used answers every lookup empty, and tables never share slots", () => {
  const unused = new RepliesById<string>();
  for (const id of [0, 1, 255, 0x3fff_ffff, -1, 2 ** 40, 2n ** 62n]) {
    assert.equal(unused.get(id), undefined);
    assert.equal(unused.take(id), undefined);
  }
  assert.deepEqual(unused.drain(), []);
  assert.equal(unused.size, 0);
  // Non-ring ids alone go to the map; ring ids then get a ring of their own per table.
  const a = new RepliesById<string>();
  const b = new RepliesById<string>();
  a.set(2n ** 62n, "big");
  a.set(0, "a0");
  b.set(256, "b256");
  assert.equal(b.get(0), undefined, "b does not see a's slot 0");
  assert.equal(new RepliesById<string>().get(0), undefined, "a fresh table neither");
  assert.equal(a.get(256), undefined);
  assert.equal(a.take(0), "a0");
  assert.equal(b.take(256), "b256");
  assert.equal(a.take(2n ** 62n), "big");
  assert.equal(a.size + b.size, 0);
});
