/**
 * ChunkReplies: waiting chunk fetches by (streamId, chunkIndex) behave exactly like a map from the
 * pair to a FIFO queue, whatever the ids: a model-based property test, plus the cases that matter
 * on the wire (the same chunk fetched twice, ids beyond 2^53 as bigints, removal from the middle).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ChunkReplies } from "../../src/connection/chunk-replies.ts";
import { canonicalInt64 } from "../../src/protocol/int64.ts";
import type { Int64 } from "../../src/protocol/messages.ts";
import { FUZZ_SEED, int64Arb } from "./protocol/message-arbitraries.ts";

interface Reply {
  readonly name: string;
}
const reply = (name: string): Reply => ({ name });
const names = (replies: readonly (Reply | undefined)[]) => replies.map((r) => r?.name);

test("the same chunk fetched again is answered oldest first; other pairs never match", () => {
  const waiting = new ChunkReplies<Reply>();
  const [a, b, c] = [reply("a"), reply("b"), reply("c")];
  waiting.add(7, 0, a);
  waiting.add(7, 0, b);
  waiting.add(7, 0, c);
  waiting.add(7, 1, reply("other index"));
  waiting.add(8, 0, reply("other stream"));
  assert.equal(waiting.size, 5);
  assert.equal(waiting.take(7, 2), undefined);
  assert.equal(waiting.take(9, 0), undefined);
  assert.equal(waiting.remove(7, 0, b), true, "a reply in the middle of a queue");
  assert.equal(waiting.remove(7, 0, b), false, "a reply no longer waiting");
  assert.deepEqual(names([waiting.take(7, 0), waiting.take(7, 0), waiting.take(7, 0)]), [
    "a",
    "c",
    undefined,
  ]);
  assert.equal(waiting.size, 2);
  assert.deepEqual(names(waiting.drain()).sort(), ["other index", "other stream"]);
  assert.equal(waiting.size, 0);
  assert.equal(waiting.take(7, 1), undefined, "drained");
});

test("stream ids beyond 2^53 are bigints and match only themselves", () => {
  const waiting = new ChunkReplies<Reply>();
  const big = 2n ** 62n + 1n;
  waiting.add(big, 3, reply("big"));
  waiting.add(canonicalInt64(5n), 3, reply("five"));
  assert.equal(waiting.take(2n ** 62n, 3), undefined);
  assert.equal(waiting.take(big, 3)?.name, "big");
  assert.equal(waiting.take(5, 3)?.name, "five", "5n is canonically the number 5");
});

test("behaves like a map from (streamId, chunkIndex) to a FIFO queue", () => {
  const streamIdArb = fc.oneof(
    fc.integer({ min: 0, max: 3 }),
    int64Arb.map((id) => canonicalInt64(id)),
  );
  const op = fc.oneof(
    fc.record({ kind: fc.constant("add" as const), stream: streamIdArb, index: fc.nat(3) }),
    fc.record({ kind: fc.constant("take" as const), stream: streamIdArb, index: fc.nat(3) }),
    fc.record({
      kind: fc.constant("remove" as const),
      stream: streamIdArb,
      index: fc.nat(3),
      pick: fc.nat(),
    }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const waiting = new ChunkReplies<Reply>();
      const model = new Map<string, Reply[]>();
      const keyOf = (stream: Int64, index: number) => `${stream}/${index}`;
      let made = 0;
      for (const o of ops) {
        const key = keyOf(o.stream, o.index);
        const queue = model.get(key) ?? [];
        if (o.kind === "add") {
          const r = reply(`r${made++}`);
          waiting.add(o.stream, o.index, r);
          model.set(key, [...queue, r]);
        } else if (o.kind === "take") {
          assert.equal(waiting.take(o.stream, o.index), queue[0]);
          model.set(key, queue.slice(1));
        } else {
          const target = queue.length === 0 ? reply("never added") : queue[o.pick % queue.length]!;
          assert.equal(waiting.remove(o.stream, o.index, target), queue.includes(target));
          model.set(key, queue.filter((r) => r !== target));
        }
        const expected = [...model.values()].reduce((n, q) => n + q.length, 0);
        assert.equal(waiting.size, expected);
      }
      const all = [...model.values()].flat();
      assert.deepEqual(new Set(waiting.drain()), new Set(all));
      assert.equal(waiting.size, 0);
    }),
    { seed: FUZZ_SEED, numRuns: 300 },
  );
});
