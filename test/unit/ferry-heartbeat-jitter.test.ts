import { test } from "node:test";
import assert from "node:assert/strict";
import { HEARTBEAT_JITTER, jitteredIntervalMs } from "../../src/extensions/ferry-heartbeat.ts";

test("each wait between pings stays within intervalMs ± HEARTBEAT_JITTER", () => {
  assert.ok(HEARTBEAT_JITTER >= 0.1 && HEARTBEAT_JITTER <= 0.2);
  assert.equal(jitteredIntervalMs(10_000, () => 0), 10_000 * (1 - HEARTBEAT_JITTER));
  assert.equal(jitteredIntervalMs(10_000, () => 0.5), 10_000);
  assert.ok(jitteredIntervalMs(10_000, () => 0.999_999) <= 10_000 * (1 + HEARTBEAT_JITTER));
  assert.equal(jitteredIntervalMs(1, () => 0), 1, "never below 1 ms");
});

test("waits of connections started together spread over the jitter window", () => {
  const intervalMs = 5_000;
  const low = intervalMs * (1 - HEARTBEAT_JITTER);
  const high = intervalMs * (1 + HEARTBEAT_JITTER);
  // 10 000 draws with Math.random, in 10 buckets across the window: none empty, none crowded.
  const buckets = new Array(10).fill(0);
  for (let i = 0; i < 10_000; i++) {
    const wait = jitteredIntervalMs(intervalMs);
    assert.ok(wait >= low && wait <= high, `wait ${wait} outside [${low}, ${high}]`);
    buckets[Math.min(9, Math.floor(((wait - low) / (high - low)) * 10))]++;
  }
  console.log(`heartbeat jitter: waits per tenth of the window ${buckets.join(" ")}`);
  for (const count of buckets) assert.ok(count > 500 && count < 1_500, String(buckets));
});
