/**
 * Connect → RPC → close, many times over TCP (in a child process run with --expose-gc): the heap
 * grows by less than 5 MiB after garbage collection, and file descriptors and active handles are
 * back at their baseline. FERRY_SOAK_CYCLES sets the count (default 5000; the long run is 100 000).
 *
 * Figures printed: cycles per second, heap growth, file descriptors and handles before and after.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import process from "node:process";

const CYCLES = Number(process.env.FERRY_SOAK_CYCLES ?? 5000);

test(`${CYCLES} connect → RPC → close cycles leave no heap, fd or handle behind`, {
  skip: process.platform !== "linux" ? "counts file descriptors in /proc/self/fd" : false,
}, () => {
  const script = new URL("../helpers/soak-cycles.ts", import.meta.url).pathname;
  const output = execFileSync(
    process.execPath,
    ["--expose-gc", "--import", "tsx", script, String(CYCLES)],
    { encoding: "utf8", timeout: 20 * 60_000, maxBuffer: 1 << 20 },
  );
  const result = JSON.parse(output.trim().split("\n").pop()!);
  const { before, after } = result;
  const growth = (after.heapUsed - before.heapUsed) / (1 << 20);
  console.log(
    `soak: ${result.cycles} connect → RPC → close cycles (${result.parallel} at a time) in ` +
      `${result.seconds.toFixed(1)} s (${(result.cycles / result.seconds).toFixed(0)}/s); heap ` +
      `after GC ${(before.heapUsed / (1 << 20)).toFixed(1)} → ${
        (after.heapUsed / (1 << 20)).toFixed(1)
      } MiB (growth ${growth.toFixed(2)} MiB); fds ${before.fds} → ${after.fds}; active handles ` +
      `${before.handles} → ${after.handles} (${after.resources})`,
  );
  assert.ok(growth < 5, `heap grew ${growth.toFixed(2)} MiB`);
  assert.equal(after.fds, before.fds, "file descriptors back at baseline");
  assert.equal(after.handles, before.handles, "active handles back at baseline");
  assert.equal(after.serverConnections, 0);
});
