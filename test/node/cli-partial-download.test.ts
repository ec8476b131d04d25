/**
 * `PartialDownload`'s background saves of `<out>.part.json`: a due `record` saves off the event
 * loop, `settle()` waits for it, `complete` after `settle` leaves no sidecar behind, and a
 * background save that failed is thrown by the next `record`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PartialDownload } from "../../cli/partial-download.ts";

const file = { name: "big.bin", size: 10_000, chunkSize: 1000, chunkCount: 10, sha256: "ab" };

/** Past the sidecar's 200 ms save interval (a longer wait changes nothing). */
const pastInterval = () => new Promise((resolve) => setTimeout(resolve, 250));

test("a due record saves in the background; settle waits for it; complete leaves no sidecar", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ferry-partial-"));
  try {
    const out = join(dir, "big.bin");
    const partial = new PartialDownload(out);
    writeFileSync(partial.partPath, new Uint8Array(file.size));
    partial.begin(file, [0]);
    assert.deepEqual(new PartialDownload(out).load().chunks, [0]);
    partial.record(1); // not due yet: the begin save was just now
    await partial.settle();
    assert.deepEqual(new PartialDownload(out).load().chunks, [0]);
    await pastInterval();
    partial.record(2); // due: saved in the background
    await partial.settle();
    assert.deepEqual(new PartialDownload(out).load().chunks, [0, 1, 2]);
    await pastInterval();
    partial.record(3);
    await partial.settle();
    partial.complete(out);
    assert.equal(existsSync(partial.sidecarPath), false);
    assert.equal(existsSync(`${partial.sidecarPath}.tmp`), false);
    assert.equal(existsSync(out), true);
    assert.equal(partial.count, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a failed background save is thrown by the next record", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ferry-partial-"));
  try {
    const out = join(dir, "gone", "big.bin");
    const partial = new PartialDownload(out);
    // The sidecar's folder does not exist: begin's synchronous save throws at once...
    assert.throws(() => partial.begin(file, []), { code: "ENOENT" });
    await pastInterval();
    partial.record(0); // ...and the background one fails later, without an unhandled rejection
    await partial.settle();
    assert.throws(() => partial.record(1), { code: "ENOENT" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
