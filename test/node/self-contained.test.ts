/**
 * The repository stands alone: a fresh clone with nothing beside it builds and passes. No tracked
 * file may refer to a path outside the repository — a sibling directory of the checkout (a shared
 * folder of notes or data next to it), an absolute path of the machine it was written on, or a
 * relative import, `new URL(…, import.meta.url)` or Markdown link that climbs above the root.
 * Data and facts from outside are copied in (see `test/fixtures/README.md`). The patterns below
 * are assembled from parts so that this file passes its own check.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Every tracked file, relative to the root. */
function trackedFiles(): string[] {
  const out = execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" });
  return out.split("\0").filter((path) => path !== "");
}

// Built from parts so that this file does not match its own patterns.
const up = "\\.\\./";
const forbidden: readonly [RegExp, string][] = [
  [new RegExp(`${up}+(shared|\\.library|\\.mirror|main|wt)\\b`), "a sibling directory"],
  [new RegExp(`(^|[^\\w.~-])/(work|home|Users)/`), "an absolute path of a machine"],
];

/** Relative paths the runtime or a Markdown reader resolves against the file's own directory. */
const fileRelative: readonly RegExp[] = [
  /\b(?:from|import)\s*\(?\s*["'`]((?:\.\.\/)+[^"'`]*)["'`]/g,
  /new URL\(\s*["'`]((?:\.\.\/)+[^"'`]*)["'`]\s*,\s*import\.meta\.url/g,
  /\]\(((?:\.\.\/)+[^)\s]*)\)/g,
];

/** What in `text` (the file at `path`) points outside the repository, one line per finding. */
function outsideReferences(path: string, text: string): string[] {
  const findings: string[] = [];
  const lines = text.split("\n");
  for (const [index, line] of lines.entries()) {
    for (const [pattern, what] of forbidden) {
      const match = pattern.exec(line);
      if (match) findings.push(`${path}:${index + 1}: ${what}: ${line.trim().slice(0, 120)}`);
    }
    for (const pattern of fileRelative) {
      for (const match of line.matchAll(pattern)) {
        const target = resolve(root, dirname(path), match[1]!);
        const inside = relative(root, target);
        if (inside === ".." || inside.startsWith(`..${sep}`)) {
          findings.push(`${path}:${index + 1}: ${match[1]} leaves the repository`);
        }
      }
    }
  }
  return findings;
}

test("no tracked file refers to a path outside the repository", () => {
  const files = trackedFiles();
  assert.ok(files.includes("package.json") && files.length > 100, "git ls-files lists the tree");
  const findings: string[] = [];
  for (const path of files) {
    const bytes = readFileSync(join(root, path));
    if (bytes.includes(0)) continue; // binary
    findings.push(...outsideReferences(path, bytes.toString("utf8")));
  }
  assert.deepEqual(findings, []);
});

test("every Markdown document a tracked file names by its bare name exists in the repository", () => {
  // A page cited by its bare name that lives outside the repository is a dead end too.
  const files = trackedFiles();
  const names = new Set(files.map((path) => path.split("/").pop()!));
  const missing: string[] = [];
  for (const path of files) {
    const bytes = readFileSync(join(root, path));
    if (bytes.includes(0)) continue;
    for (const match of bytes.toString("utf8").matchAll(/(?<![\w./-])([A-Z][A-Z0-9_-]*\.md)\b/g)) {
      if (!names.has(match[1]!)) missing.push(`${path}: ${match[1]}`);
    }
  }
  assert.deepEqual([...new Set(missing)], []);
});

test("the check sees each kind of outside reference", () => {
  const sibling = ["..", "shared", "NOTES"].join("/") + ".md";
  assert.equal(outsideReferences("docs/a.md", `see \`${sibling}\``).length, 1);
  assert.equal(outsideReferences("README.md", ["read", "", "work", "x"].join("/")).length, 1);
  assert.equal(
    outsideReferences("src/a.ts", `import { x } from "../../elsewhere/x.ts";`).length,
    1,
  );
  assert.equal(outsideReferences("src/a/b.ts", `import { x } from "../../src/x.ts";`).length, 0);
  assert.equal(
    outsideReferences("test/helpers/a.ts", `new URL("${"../".repeat(3)}x", import.meta.url)`)
      .length,
    1,
  );
  assert.equal(outsideReferences("docs/a.md", "[x](../README.md)").length, 0);
  assert.equal(outsideReferences("docs/a.md", "[x](../../other/README.md)").length, 1);
  assert.equal(outsideReferences("README.md", "cert at /tmp/ferry.pem").length, 0);
});
