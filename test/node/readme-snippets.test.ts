/**
 * Every TypeScript snippet of the README and of `docs/` type-checks, as written: each ```ts block
 * becomes a module of its own in a folder of the checkout, where `deno.json`'s import map
 * resolves `ferry-transport` and its subpaths to the sources (as for a reader trying them), and
 * `deno check` checks them all under the repository's strict compiler options. (Which snippets
 * run, and what they print, is in readme.test.ts and readme-ferry.test.ts.)
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { promisify } from "node:util";
import { root } from "../helpers/ferry-cli.ts";

interface Snippet {
  /** `README.md:123`: the document and the line its block starts on. */
  readonly where: string;
  readonly source: string;
}

/** The ```ts blocks of `markdown`. */
function tsBlocks(document: string, markdown: string): Snippet[] {
  const snippets: Snippet[] = [];
  for (const match of markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
    const line = markdown.slice(0, match.index).split("\n").length;
    snippets.push({ where: `${document}:${line}`, source: match[1]! });
  }
  return snippets;
}

const documents = [
  "README.md",
  ...readdirSync(join(root, "docs")).filter((name) => name.endsWith(".md")).map((name) =>
    `docs/${name}`
  ),
];
const artifacts = join(root, "test-artifacts");
mkdirSync(artifacts, { recursive: true });
const dir = mkdtempSync(join(artifacts, "snippets-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes the snippets as modules and runs `deno check` on them; resolves with its output. */
async function denoCheck(snippets: readonly Snippet[], prefix: string) {
  const files = snippets.map((snippet, index) => {
    const file = join(dir, `${prefix}-${index}-${snippet.where.replace(/[/:.]/g, "_")}.ts`);
    // `export {}`: a block without imports is still a module of its own, not a global script.
    writeFileSync(file, `${snippet.source}\nexport {};\n`);
    return file;
  });
  return await promisify(execFile)(join(root, "node_modules/.bin/deno"), ["check", ...files], {
    cwd: dir,
    timeout: 180_000,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, NO_COLOR: "1" },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof error.code === "number" ? error.code : 1,
      output: `${error.stdout ?? ""}${error.stderr ?? ""}`,
    }),
  );
}

test("every ts block in the README and docs/ type-checks as written", async () => {
  const snippets = documents.flatMap((document) =>
    tsBlocks(document, readFileSync(join(root, document), "utf8"))
  );
  assert.ok(snippets.length >= 5, `found ${snippets.length} ts blocks`);
  assert.ok(snippets.some((snippet) => snippet.source.includes("new ConnectionPool(")));
  const { code, output } = await denoCheck(snippets, "doc");
  assert.equal(
    code,
    0,
    `deno check failed on ${snippets.map((s) => s.where).join(", ")}:\n${output}`,
  );
});

test("the check fails on a snippet that does not type-check", async () => {
  const { code, output } = await denoCheck([{
    where: "bad.md:1",
    source: `import { tcpConnect } from "ferry-transport/node";\n` +
      `const route: string | { host: string; port: number } = "peer";\n` +
      `tcpConnect(route);\n`,
  }], "bad");
  assert.notEqual(code, 0);
  assert.match(output, /TS2345/);
});

test("every relative link in the README and docs/ names a file of the repository", () => {
  const broken: string[] = [];
  for (const document of documents) {
    const text = readFileSync(join(root, document), "utf8");
    for (const match of text.matchAll(/\]\(([^)#\s]+)(#[^)\s]*)?\)/g)) {
      const target = match[1]!;
      if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
      if (!existsSync(join(root, dirname(document), target))) broken.push(`${document}: ${target}`);
    }
  }
  assert.deepEqual(broken, []);
});
