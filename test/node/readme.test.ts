/**
 * The README's "At a glance" example is code people paste: run it exactly as written, in the
 * checkout (no build), and check what it prints.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const root = fileURLToPath(new URL("../..", import.meta.url));

function firstTsBlockAfter(markdown: string, heading: string): string {
  const from = markdown.indexOf(heading);
  assert.ok(from >= 0, `README has a "${heading}" section`);
  const match = /```ts\n([\s\S]*?)```/.exec(markdown.slice(from));
  assert.ok(match, `a ts block follows "${heading}"`);
  return match[1]!;
}

test("the README's at-a-glance example runs and prints the echo and the chunk size", async () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const source = firstTsBlockAfter(readme, "## At a glance");
  assert.ok(source.includes(`from "ferry-transport"`));
  // In the checkout, outside node_modules, run with tsx: tsconfig.json's paths resolve
  // "ferry-transport" to the sources, as for a reader running it with `npx tsx` (no build).
  mkdirSync(join(root, "test-artifacts"), { recursive: true });
  const dir = mkdtempSync(join(root, "test-artifacts", "readme-"));
  try {
    const file = join(dir, "example.mts");
    writeFileSync(file, source);
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", file], {
      cwd: root,
      timeout: 60_000,
    });
    assert.equal(stdout.trim(), "hello 1024");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
