/**
 * `FrameBufferPool`: reuse of released frame buffers, its size classes and retention bounds, and
 * the rule that keeps a buffer from holding two things at once (foreign and repeated releases are
 * ignored; a buffer is never handed out while lent), and the spare room after a frame. Most tests
 * count exact bytes, so they make their pools without spare room (`spareBytes: 0`).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { FrameBufferPool } from "../../src/connection/frame-buffer-pool.ts";
import { InvalidArgumentError } from "../../src/errors.ts";

const KiB = 1024;

const exact = { spareBytes: 0 };

test("a released buffer is reused for a frame it fits, as a view of exactly the frame's size", () => {
  const pool = new FrameBufferPool(exact);
  const first = pool.allocate(100 * KiB);
  assert.equal(first.byteLength, 100 * KiB);
  assert.equal(pool.retainedBytes, 0);
  pool.release(first.subarray(13)); // a body: a view into the frame's buffer
  assert.equal(pool.retainedBytes, 100 * KiB);
  assert.equal(pool.retainedBuffers, 1);
  const second = pool.allocate(90 * KiB);
  assert.equal(second.buffer, first.buffer);
  assert.equal(second.byteOffset, 0);
  assert.equal(second.byteLength, 90 * KiB);
  assert.equal(pool.retainedBytes, 0, "a buffer handed out is no longer retained");
});

test("size classes: a free buffer is used only if it is at least the size and at most twice it", () => {
  const pool = new FrameBufferPool(exact);
  const big = pool.allocate(1024 * KiB);
  pool.release(big);
  const tooSmallForIt = pool.allocate(500 * KiB);
  assert.notEqual(tooSmallForIt.buffer, big.buffer, "over half of it would be wasted");
  const larger = pool.allocate(1024 * KiB + 1);
  assert.notEqual(larger.buffer, big.buffer, "it is too small");
  assert.equal(pool.allocate(512 * KiB).buffer, big.buffer, "exactly twice is fine");
});

test("the smallest fitting free buffer is chosen", () => {
  const pool = new FrameBufferPool();
  const medium = pool.allocate(300 * KiB);
  const small = pool.allocate(200 * KiB);
  pool.release(medium);
  pool.release(small);
  assert.equal(pool.allocate(190 * KiB).buffer, small.buffer);
  assert.equal(pool.allocate(190 * KiB).buffer, medium.buffer);
});

test("of free buffers of one size, the one given back last is reused first (the warmest)", () => {
  const pool = new FrameBufferPool(exact);
  const a = pool.allocate(100 * KiB);
  const b = pool.allocate(100 * KiB);
  pool.release(a);
  pool.release(b);
  assert.equal(pool.allocate(100 * KiB).buffer, b.buffer);
  pool.release(b);
  assert.equal(pool.allocate(100 * KiB).buffer, b.buffer, "not a and b taking turns");
});

test("frames below the threshold are never pooled", () => {
  const pool = new FrameBufferPool({ minPooledSize: 64 * KiB, ...exact });
  const small = pool.allocate(64 * KiB - 1);
  pool.release(small);
  assert.equal(pool.retainedBytes, 0);
  const atThreshold = pool.allocate(64 * KiB);
  pool.release(atThreshold);
  assert.equal(pool.retainedBytes, 64 * KiB);
  // A free buffer is not handed out for a small frame either (it goes to fresh memory).
  assert.notEqual(pool.allocate(40 * KiB).buffer, atThreshold.buffer);
  assert.equal(pool.retainedBytes, 64 * KiB);
});

test("a foreign view, a second release and a release of a free buffer are ignored", () => {
  const pool = new FrameBufferPool();
  pool.release(new Uint8Array(100 * KiB));
  assert.equal(pool.retainedBytes, 0, "memory the pool did not hand out");
  const lent = pool.allocate(100 * KiB);
  pool.release(lent);
  pool.release(lent.subarray(5));
  pool.release(lent);
  assert.equal(pool.retainedBuffers, 1, "one lending, one release");
  const again = pool.allocate(100 * KiB);
  assert.equal(again.buffer, lent.buffer);
  const other = pool.allocate(100 * KiB);
  assert.notEqual(other.buffer, lent.buffer, "handed out while lent");
  // Released again after its second lending: back once more, exactly once.
  pool.release(again);
  pool.release(again);
  assert.equal(pool.retainedBuffers, 1);
});

test("retention is bounded in buffers and bytes; over a bound the oldest free buffer goes", () => {
  const pool = new FrameBufferPool({
    maxRetainedBuffers: 2,
    maxRetainedBytes: 500 * KiB,
    ...exact,
  });
  const [a, b, c] = [pool.allocate(100 * KiB), pool.allocate(100 * KiB), pool.allocate(100 * KiB)];
  pool.release(a!);
  pool.release(b!);
  pool.release(c!);
  assert.equal(pool.retainedBuffers, 2);
  assert.equal(pool.retainedBytes, 200 * KiB);
  const reused = [pool.allocate(100 * KiB).buffer, pool.allocate(100 * KiB).buffer];
  assert.ok(reused.includes(b!.buffer) && reused.includes(c!.buffer), "a was the oldest");

  const d = pool.allocate(300 * KiB);
  const e = pool.allocate(300 * KiB);
  pool.release(d);
  pool.release(e);
  assert.equal(pool.retainedBytes, 300 * KiB, "two would exceed the byte bound");
  assert.equal(pool.allocate(300 * KiB).buffer, e.buffer);
  const huge = pool.allocate(600 * KiB);
  pool.release(huge);
  assert.equal(pool.retainedBytes, 0, "larger than the byte bound on its own");

  const none = new FrameBufferPool({ maxRetainedBuffers: 0 });
  none.release(none.allocate(100 * KiB));
  assert.equal(none.retainedBytes, 0);
});

test("fresh memory comes from allocateFresh; memory that is not a buffer of its own is not pooled", () => {
  const sizes: number[] = [];
  let shared = false;
  const pool = new FrameBufferPool({
    ...exact,
    allocateFresh: (size) => {
      sizes.push(size);
      if (!shared) return new Uint8Array(size);
      return new Uint8Array(size + 16).subarray(16); // a view into a larger buffer
    },
  });
  pool.release(pool.allocate(100 * KiB));
  pool.allocate(100 * KiB); // reused: no fresh allocation
  assert.deepEqual(sizes, [100 * KiB]);
  shared = true;
  const view = pool.allocate(200 * KiB);
  assert.equal(view.byteLength, 200 * KiB);
  pool.release(view);
  assert.equal(pool.retainedBytes, 0);
});

test("close drops the free buffers, ignores later releases and stops pooling", () => {
  const pool = new FrameBufferPool(exact);
  const lent = pool.allocate(100 * KiB);
  pool.release(pool.allocate(100 * KiB));
  assert.equal(pool.retainedBytes, 100 * KiB);
  pool.close();
  assert.equal(pool.retainedBytes, 0);
  pool.release(lent);
  assert.equal(pool.retainedBytes, 0);
  pool.release(pool.allocate(100 * KiB));
  assert.equal(pool.retainedBytes, 0);
  pool.close();
});

test("a pooled buffer has spareBytes of room after its frame, told only while it is lent", () => {
  const pool = new FrameBufferPool({ spareBytes: 256 });
  const frame = pool.allocate(100 * KiB);
  assert.equal(frame.byteLength, 100 * KiB);
  assert.equal(frame.buffer.byteLength, 100 * KiB + 256, "made with the room after it");
  assert.equal(pool.spareAfter(frame), 256);
  assert.equal(pool.spareAfter(frame.subarray(21)), 0, "only for the frame itself");
  assert.equal(pool.spareAfter(new Uint8Array(100 * KiB + 256).subarray(0, 100 * KiB)), 0);
  pool.release(frame);
  assert.equal(pool.spareAfter(frame), 0, "released: the room is no longer the frame's");
  // Reused for a smaller frame: the room told is still at most spareBytes.
  const smaller = pool.allocate(90 * KiB);
  assert.equal(smaller.buffer, frame.buffer);
  assert.equal(pool.spareAfter(smaller), 256);
  // Small frames are not pooled, so they have no room after them.
  assert.equal(pool.spareAfter(pool.allocate(1 * KiB)), 0);
  const none = new FrameBufferPool(exact);
  assert.equal(none.spareAfter(none.allocate(100 * KiB)), 0, "spareBytes 0: none");
  assert.equal(pool.spareAfter(none.allocate(100 * KiB)), 0, "another pool's buffer");
});

test("bad options are refused with InvalidArgumentError", () => {
  for (
    const options of [{ minPooledSize: -1 }, { maxRetainedBuffers: 1.5 }, {
      maxRetainedBytes: Number.NaN,
    }, { spareBytes: -1 }]
  ) {
    assert.throws(() => new FrameBufferPool(options), InvalidArgumentError);
  }
});

test("property: no buffer is ever handed out while lent, and retention stays within its bounds", () => {
  const sizes = fc.integer({ min: 1, max: 400 * KiB });
  const step = fc.oneof(
    fc.record({ allocate: sizes }),
    fc.record({ release: fc.nat(), offset: fc.nat({ max: 64 }) }),
    fc.record({ releaseForeign: sizes }),
  );
  fc.assert(
    fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
      const pool = new FrameBufferPool({
        maxRetainedBuffers: 3,
        maxRetainedBytes: 900 * KiB,
        spareBytes: 256,
      });
      const lent: Uint8Array[] = [];
      for (const s of steps) {
        if ("allocate" in s) {
          const bytes = pool.allocate(s.allocate);
          assert.equal(bytes.byteLength, s.allocate);
          for (const other of lent) assert.notEqual(other.buffer, bytes.buffer, "lent twice");
          lent.push(bytes);
        } else if ("release" in s) {
          if (lent.length === 0) continue;
          const [bytes] = lent.splice(s.release % lent.length, 1);
          pool.release(bytes!.subarray(Math.min(s.offset, bytes!.length)));
          pool.release(bytes!); // a second release of the same lending
        } else {
          pool.release(new Uint8Array(s.releaseForeign));
        }
        assert.ok(pool.retainedBuffers <= 3 && pool.retainedBytes <= 900 * KiB);
      }
    }),
    { numRuns: 200 },
  );
});
