/**
 * One clock for every timer: outside `src/clock.ts`, nothing in `src/` calls `setTimeout`,
 * `setInterval`, `clearTimeout` or `clearInterval` itself — timers are armed through a `Clock`, so
 * a test injects a hand-driven one instead of sleeping, and no timer polls.
 *
 * `PENDING` lists the files still arming raw timers, each with why. The list only shrinks: the
 * test fails when a listed file no longer needs its entry, so it is deleted with the change.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Raw timer calls allowed in these files for now, and why. */
const PENDING: Readonly<Record<string, string>> = {};

function tsFiles(dir: string): string[] {
  if (!existsSync(join(root, dir))) return [];
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const rel = `${dir}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) out.push(...tsFiles(rel));
    else if (name.endsWith(".ts")) out.push(rel);
  }
  return out;
}

/** Source without comments (doc examples may show plain timers). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\/|(^|[^:"'`])\/\/.*$/gm, "$1");
}

const rawTimer = /\b(?:setTimeout|setInterval|clearTimeout|clearInterval)\s*\(/;

function filesWithRawTimers(): string[] {
  return tsFiles("src").filter((file) =>
    file !== "src/clock.ts" && rawTimer.test(code(readFileSync(join(root, file), "utf8")))
  );
}

test("src/ arms timers only through a Clock (src/clock.ts)", () => {
  const offenders = filesWithRawTimers().filter((file) => !(file in PENDING));
  assert.deepEqual(offenders, [], "arm these timers through a Clock (see src/clock.ts)");
});

test("every PENDING entry is still needed (delete an entry once its file uses the Clock)", () => {
  const raw = new Set(filesWithRawTimers());
  const stale = Object.keys(PENDING).filter((file) => !raw.has(file));
  assert.deepEqual(stale, []);
});

test("the scan sees a raw timer in code and ignores one in a comment", () => {
  assert.ok(rawTimer.test(code("const t = setTimeout(run, 10);")));
  assert.ok(rawTimer.test(code('const url = "https://x"; clearTimeout(t);')));
  assert.ok(!rawTimer.test(code("/** @example setTimeout(run, 10) */\n// setInterval(f, 1)\n")));
  assert.ok(!rawTimer.test(code("clock.setTimer(run, 10); clock.clearTimer(t);")));
});
