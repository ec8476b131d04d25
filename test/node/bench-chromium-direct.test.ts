/**
 * The bench's direct Chromium harness (`bench/harness/chromium-direct.ts`): calls run in the page
 * with JSON in and out, page failures come back with their text, state survives between calls,
 * and `close()` leaves no Chromium process and no profile directory behind. No timing asserted.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { type ChromiumDirect, launchChromiumDirect } from "../../bench/harness/chromium-direct.ts";
import { processGroupMembers } from "../../bench/harness/cpu-meter.ts";

const PAGE = "harness-probe-page.js";
const GUARD = { timeout: 120_000 };

function groupAlive(pgid: number): boolean {
  return processGroupMembers(pgid).length > 0;
}

describe("chromium-direct harness", () => {
  let chromium: ChromiumDirect | undefined;

  before(async () => {
    chromium = await launchChromiumDirect({ modules: ["bench/browser/harness-probe-page.ts"] });
  });

  after(async () => {
    await chromium?.close();
  });

  it("runs an export in the page and returns its JSON result", GUARD, async () => {
    const first = await chromium!.call<{ args: unknown[]; calls: number; userAgent: string }>(
      PAGE,
      "echo",
      [1, "two", { three: [3] }],
    );
    assert.deepEqual(first.args, [1, "two", { three: [3] }]);
    assert.match(first.userAgent, /HeadlessChrome|Chrome/);
    const second = await chromium!.call<{ calls: number }>(PAGE, "echo", []);
    assert.equal(second.calls, first.calls + 1, "the module stays loaded between calls");
  });

  it("rejects with the page's error", GUARD, async () => {
    await assert.rejects(
      chromium!.call(PAGE, "fail", ["no such luck"]),
      (error: Error) => {
        assert.match(error.message, /harness-probe-page\.js fail\("no such luck"\) failed/);
        assert.match(error.message, /RangeError: no such luck/);
        return true;
      },
    );
    await assert.rejects(chromium!.call("missing-page.js", "run"), /missing-page\.js run\(\)/);
  });

  it("counts Chromium's CPU time", GUARD, () => {
    const seconds = chromium!.cpuSeconds();
    assert.ok(seconds !== undefined && seconds > 0, `cpuSeconds() = ${seconds}`);
  });

  it("close() kills the whole process group and removes the profile", GUARD, async () => {
    const { pid, profileDir } = chromium!;
    assert.ok(groupAlive(pid), "Chromium runs before close()");
    assert.ok(existsSync(profileDir));
    await chromium!.close();
    assert.equal(groupAlive(pid), false, `process group ${pid} still has processes`);
    assert.equal(existsSync(profileDir), false, `${profileDir} was left behind`);
    await assert.rejects(chromium!.call(PAGE, "echo"), /closed/);
    await chromium!.close(); // idempotent
  });
});
