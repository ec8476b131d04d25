/**
 * The public entries document their exports with examples that compile: every value a
 * runtime-neutral entry (deno.json `exports` under src/: the root and its subpaths) exports has a
 * doc comment with an `@example`, and the ```ts blocks of the `@example` tags of every exported
 * declaration type-check as written — each becomes a module of its own in a folder of
 * the checkout, where `deno.json`'s import map resolves `ferry-transport` and its subpaths to the
 * sources, and `deno check` checks them all (as readme-snippets.test.ts does for the docs).
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import ts from "typescript";
import { root } from "../helpers/ferry-cli.ts";

/**
 * Exported values allowed to lack an example for now, by entry — empty since `./files` got its
 * examples; kept so a new entry can be brought in step by step. The test fails once one of them
 * has its example, so the list only shrinks.
 */
const EXAMPLE_PENDING: Readonly<Record<string, readonly string[]>> = {};

interface Example {
  /** `TransportClient (src/client/transport-client.ts)`. */
  readonly where: string;
  readonly source: string;
}

interface EntryDocs {
  /** Exported names (values and types) with at least one `@example`. */
  readonly documented: Set<string>;
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
    const docs: EntryDocs = { documented: new Set(), examples: [] };
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias
        ? checker.getAliasedSymbol(exported)
        : exported;
      const declaration = symbol.declarations?.[0];
      const file = declaration ? relative(root, declaration.getSourceFile().fileName) : "?";
      const examples = symbol.getJsDocTags(checker).filter((tag) => tag.name === "example");
      if (examples.length > 0) docs.documented.add(exported.name);
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

test("every exported value of every entry has a doc comment with an @example", async () => {
  const missing: string[] = [];
  const done: string[] = [];
  for (const [subpath, path] of entries) {
    const entry = docs.get(subpath)!;
    // The values as a caller sees them (a `type`-only re-export of a class is not one).
    const values = Object.keys(await import(pathToFileURL(join(root, path)).href)).sort();
    const pending = EXAMPLE_PENDING[subpath] ?? [];
    const without = values.filter((name) => !entry.documented.has(name));
    console.log(
      `${subpath}: ${values.length} values, ${entry.examples.length} examples` +
        (without.length > 0 ? `; no example: ${without.join(" ")}` : ""),
    );
    missing.push(
      ...without.filter((name) => !pending.includes(name)).map((n) => `${subpath} ${n}`),
    );
    done.push(...pending.filter((name) => !without.includes(name)).map((n) => `${subpath} ${n}`));
  }
  assert.deepEqual(missing, [], "exported values without an @example");
  assert.deepEqual(done, [], "have an @example now: remove them from EXAMPLE_PENDING");
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
