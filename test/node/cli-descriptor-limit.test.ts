/** `ferry serve` caps open streams at half of its soft descriptor limit (less a reserve). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import {
  softDescriptorLimit,
  streamCapForDescriptors,
  streamCapFromLimits,
} from "../../cli/descriptor-limit.ts";
import { defaultLimits } from "../../src/limits.ts";

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max processes             63432                63432                processes
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

test("the stream cap leaves at least half of the soft descriptor limit free", () => {
  assert.equal(softDescriptorLimit(LIMITS), 1024);
  assert.equal(streamCapFromLimits(LIMITS), 448);
  const unlimited = LIMITS.replace("1024                 524288", "unlimited  unlimited");
  assert.equal(streamCapFromLimits(unlimited), defaultLimits.maxStreams);
  assert.equal(streamCapFromLimits(undefined), defaultLimits.maxStreams);
  assert.equal(streamCapFromLimits(LIMITS.replace("1024 ", "100  ")), 1, "never below 1");
  const own = streamCapForDescriptors();
  if (existsSync("/proc/self/limits")) {
    const soft = softDescriptorLimit(readFileSync("/proc/self/limits", "utf8"));
    console.log(`this process: soft descriptor limit ${soft}, ferry serve maxStreams ${own}`);
    if (soft !== undefined) assert.ok(own <= soft / 2);
  }
});
