import { test } from "node:test";
import assert from "node:assert/strict";
import { FrameSlab } from "../../src/connection/frame-slab.ts";

/** Reserves `length` bytes of `slab` and fills them with `value`, as the encoder would. */
function put(slab: FrameSlab, length: number, value: number): void {
  slab.reserve(length);
  slab.bytes.fill(value, slab.offset, slab.offset + length);
}

function concat(chunks: readonly Uint8Array[]): number[] {
  return chunks.flatMap((chunk) => [...chunk]);
}

test("frames of one writer in one tick leave as one contiguous run", () => {
  const out: Uint8Array[] = [];
  const slab = new FrameSlab((chunk) => out.push(chunk));
  put(slab, 3, 1);
  put(slab, 2, 2);
  assert.equal(slab.openBytes, 5);
  slab.closeRun();
  assert.equal(out.length, 1);
  assert.deepEqual([...out[0]!], [1, 1, 1, 2, 2]);
  assert.equal(slab.total, 5);
});

test("writers sharing the slab never overwrite each other's queued bytes", () => {
  const a: Uint8Array[] = [];
  const b: Uint8Array[] = [];
  const slabA = new FrameSlab((chunk) => a.push(chunk));
  const slabB = new FrameSlab((chunk) => b.push(chunk));
  // Interleaved, and past the end of a 64 KiB slab so both cross into fresh slabs.
  for (let i = 0; i < 3_000; i++) {
    put(slabA, 40, i % 251);
    put(slabB, 25, (i + 7) % 251);
  }
  slabA.closeRun();
  slabB.closeRun();
  const expected = (length: number, shift: number) =>
    Array.from({ length: 3_000 }, (_, i) => new Array(length).fill((i + shift) % 251)).flat();
  assert.deepEqual(concat(a), expected(40, 0));
  assert.deepEqual(concat(b), expected(25, 7));
});

test("a writer holds no slab once its run is emitted or discarded", () => {
  const out: Uint8Array[] = [];
  const slab = new FrameSlab((chunk) => out.push(chunk));
  put(slab, 10, 9);
  slab.closeRun();
  assert.equal(slab.bytes.byteLength, 0);
  assert.equal(slab.openBytes, 0);
  put(slab, 10, 8);
  slab.discard();
  assert.equal(slab.bytes.byteLength, 0);
  slab.closeRun();
  assert.equal(out.length, 1, "the discarded run is never emitted");
});

test("passed-through chunks and large reservations keep wire order", () => {
  const out: Uint8Array[] = [];
  const slab = new FrameSlab((chunk) => out.push(chunk));
  put(slab, 4, 1);
  slab.passThrough(new Uint8Array([5, 5]));
  put(slab, 20_000, 3);
  put(slab, 2, 4);
  slab.closeRun();
  assert.deepEqual(out.map((chunk) => chunk.byteLength), [4, 2, 20_000, 2]);
  assert.equal(out[2]![0], 3);
  assert.equal(slab.total, 4 + 2 + 20_000 + 2);
});
