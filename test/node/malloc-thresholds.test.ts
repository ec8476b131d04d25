/**
 * The Node adapter raises glibc's dynamic mmap / trim thresholds once per process, by dropping one
 * chunk just under glibc's 32 MiB maximum (adapters/node/malloc-thresholds.ts), so the memory of
 * collected frame buffers is reused instead of trimmed and faulted in again.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  LARGE_FRAME_BYTES,
  raiseMallocThresholds,
  RAISING_CHUNK_BYTES,
} from "../../adapters/node/malloc-thresholds.ts";

const MiB = 1024 * 1024;

test("the raising chunk maps to at most glibc's 32 MiB maximum, well above a 1 MiB body", () => {
  // glibc maps a chunk of the request plus its 16-byte header, rounded up to whole pages; a mapped
  // chunk over 32 MiB would leave the thresholds where they are.
  const pageSize = 64 * 1024; // the largest page size glibc runs with (arm64, ppc64)
  const mapped = Math.ceil((RAISING_CHUNK_BYTES + 16) / pageSize) * pageSize;
  assert.ok(mapped <= 32 * MiB, `mapped chunk of ${mapped} bytes`);
  assert.ok(RAISING_CHUNK_BYTES >= 31 * MiB, `${RAISING_CHUNK_BYTES} bytes`);
  assert.equal(LARGE_FRAME_BYTES, 128 * 1024, "glibc's initial mmap threshold");
});

test("raiseMallocThresholds allocates the chunk once per process, never again", () => {
  const asked: number[] = [];
  const allocate = (size: number) => asked.push(size);
  assert.equal(raiseMallocThresholds(allocate), true);
  assert.deepEqual(asked, [RAISING_CHUNK_BYTES]);
  assert.equal(raiseMallocThresholds(allocate), false);
  assert.equal(raiseMallocThresholds(), false);
  assert.deepEqual(asked, [RAISING_CHUNK_BYTES]);
});
