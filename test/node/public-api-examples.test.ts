/**
 * The public entries document their exports with examples that compile: every value the root
 * entry (`src/mod.ts`) exports has a doc comment with an `@example`, and the ```ts blocks of the
 * `@example` tags of every exported declaration of every runtime-neutral entry (deno.json
 * `exports` under src/) type-check as written — each becomes a module of its own in a folder of
 * the checkout, where `deno.json`'s import map resolves `ferry-transport` and its subpaths to the
 * sources, and `deno check` checks them all (as readme-snippets.test.ts does for the docs).
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import process from "node:process";
import { promisify } from "node:util";
import ts from "typescript";
import { root } from "../helpers/ferry-cli.ts";

/**
 * Root exports whose declaration is in a file another part of the work owns at the moment
 * (`src/liveness/ferry-heartbeat.ts`); the test fails once one of them has its example, so the
 * list only shrinks.
 */
const EXAMPLE_PENDING = new Set(["startFerryHeartbeat", "ferryHeartbeatBootstrap"]);

interface Example {
  /** `TransportClient (src/client/transport-client.ts)`. */
  readonly where: string;
  readonly source: string;
}

interface EntryDocs {
  readonly values: string[];
  readonly withoutExample: string[];
  readonly examples: Example[];
}

const deno = JSON.parse(readFileSync(join(root, "deno.json"), "utf8")) as {
  exports: Record<string, string>;
};
const entries = Object.entries(deno.exports).filter(([, path]) => path.startsWith("./src/"));

/** Reads the exports of every entry through the TypeScript compiler, with their `@example`s. */
function readEntries(): Map<string, EntryDocs> {
  const files = entries.map(([, path]) => join(root, path));
  const program = ts.createProgram(files, {
    allowImportingTsExtensions: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    noResolve: false,
  });
  const checker = program.getTypeChecker();
  const result = new Map<string, EntryDocs>();
  for (const [subpath, path] of entries) {
    const source = program.getSourceFile(join(root, path));
    assert.ok(source !== undefined, `${path} is in the program`);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    assert.ok(moduleSymbol !== undefined, `${path} is a module`);
    const docs: EntryDocs = { values: [], withoutExample: [], examples: [] };
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias
        ? checker.getAliasedSymbol(exported)
        : exported;
      const declaration = symbol.declarations?.[0];
      const file = declaration ? relative(root, declaration.getSourceFile().fileName) : "?";
      const isValue = (symbol.flags & ts.SymbolFlags.Value) !== 0;
      if (isValue) docs.values.push(exported.name);
      const examples = symbol.getJsDocTags(checker).filter((tag) => tag.name === "example");
      if (isValue && examples.length === 0) docs.withoutExample.push(exported.name);
      for (const tag of examples) {
        const text = ts.displayPartsToString(tag.text);
        const blocks = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
        assert.ok(blocks.length > 0, `the @example of ${exported.name} (${file}) has a ts block`);
        for (const block of blocks) {
          docs.examples.push({ where: `${exported.name} (${file})`, source: block });
        }
      }
    }
    result.set(subpath, docs);
  }
  return result;
}

const artifacts = join(root, "test-artifacts");
mkdirSync(artifacts, { recursive: true });
const dir = mkdtempSync(join(artifacts, "api-examples-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function denoCheck(examples: readonly Example[], prefix: string) {
  const files = examples.map((example, index) => {
    const file = join(dir, `${prefix}-${index}-${example.where.replace(/[^A-Za-z0-9]+/g, "_")}.ts`);
    // `export {}`: an example without imports is still a module of its own (top-level await).
    writeFileSync(file, `${example.source}\nexport {};\n`);
    return file;
  });
  return await promisify(execFile)(join(root, "node_modules/.bin/deno"), ["check", ...files], {
    cwd: dir,
    timeout: 300_000,
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

const docs = readEntries();

test("every value of the root entry has a doc comment with an @example", () => {
  const rootDocs = docs.get(".")!;
  const missing = rootDocs.withoutExample.filter((name) => !EXAMPLE_PENDING.has(name));
  assert.deepEqual(missing, [], "root exports without an @example");
  const done = [...EXAMPLE_PENDING].filter((name) => !rootDocs.withoutExample.includes(name));
  assert.deepEqual(done, [], "have an @example now: remove them from EXAMPLE_PENDING");
  for (const [subpath, entry] of docs) {
    console.log(
      `${subpath}: ${entry.values.length} values, ${entry.examples.length} examples` +
        (entry.withoutExample.length > 0 ? `; no example: ${entry.withoutExample.join(" ")}` : ""),
    );
  }
});

test("every @example of the public entries type-checks as written", async () => {
  const seen = new Set<string>();
  const examples = [...docs.values()].flatMap((entry) => entry.examples).filter((example) => {
    // An export re-exported by two entries (MessageType) is checked once.
    if (seen.has(example.where + example.source)) return false;
    seen.add(example.where + example.source);
    return true;
  });
  assert.ok(examples.length >= 30, `found ${examples.length} examples`);
  const { code, output } = await denoCheck(examples, "example");
  assert.equal(code, 0, `deno check failed:\n${output}`);
});

test("the check fails on an example that does not type-check", async () => {
  const { code, output } = await denoCheck([{
    where: "bad",
    source: `import { TransportClient } from "ferry-transport";\n` +
      `await TransportClient.connect("127.0.0.1:7337");\n`,
  }], "bad");
  assert.notEqual(code, 0);
  assert.match(output, /TS2345/);
});
