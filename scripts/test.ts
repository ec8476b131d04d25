/**
 * `npm test`: every check and every test runner, one summary.
 *
 * 1. static checks: `deno fmt --check`, `deno lint`, `tsc --noEmit`, `deno check`, the dist build;
 * 2. Node (through tsx): test/unit, test/node, test/browser;
 * 3. Deno: test/unit, test/deno.
 * 4. Bun: the socket conformance suites of the Node adapters and the TLS tests that name a
 *    runtime's refusal code, under `bun test` (Bun runs `node:test` files; they say where a check
 *    cannot run there).
 *
 * Two lanes run side by side: the Node runner (the longest part, most of it waiting on sockets,
 * browsers and child processes) streams its output live, while the static checks, then Deno, then
 * Bun run in the second lane, whose output is printed as a block when each step ends. Each part
 * prints how long it took. `--serial` runs the parts one after another instead.
 *
 * Each static check counts as one test. The last line is `N passed, M failed` over all of them;
 * the exit status is 0 only when nothing failed. `--only static|node|deno|bun` runs one part;
 * other arguments are test file filters (substrings of the path).
 *
 * @module
 */

import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import process from "node:process";

const root = new URL("..", import.meta.url).pathname;
const bin = (name: string) => join(root, "node_modules", ".bin", name);

interface Tally {
  passed: number;
  failed: number;
  failures: string[];
}
const tally: Tally = { passed: 0, failed: 0, failures: [] };

/** Where a lane's output goes: live to the terminal, or held and printed as one block. */
interface Sink {
  write(text: string): void;
  /** Prints what was held (a no-op for a live sink). */
  flush(): void;
}

const live: Sink = { write: (text) => process.stdout.write(text), flush: () => {} };

function heldSink(): Sink {
  let held = "";
  return {
    write: (text) => {
      held += text;
    },
    flush: () => {
      process.stdout.write(held);
      held = "";
    },
  };
}

/** Runs `part`, then prints how long it took through `out`. */
async function timed(out: Sink, name: string, part: () => Promise<void>): Promise<void> {
  const started = Date.now();
  await part();
  out.write(`── ${name} took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  out.flush();
}

function run(
  command: string,
  args: string[],
  options: { capture?: boolean; env?: Record<string, string>; out?: Sink } = {},
): Promise<{ code: number; output: string }> {
  const out = options.out ?? live;
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const forward = (chunk: Buffer) => {
      const text = chunk.toString();
      if (options.capture) output += text;
      out.write(text);
    };
    child.stdout.on("data", forward);
    child.stderr.on("data", forward);
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
    child.on("error", (error) => {
      process.stderr.write(`could not start ${command}: ${error.message}\n`);
      resolve({ code: 127, output });
    });
  });
}

function findTests(dir: string, filters: string[]): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".test.ts")) out.push(relative(root, p));
    }
  };
  walk(abs);
  return filters.length ? out.filter((f) => filters.some((x) => f.includes(x))) : out;
}

async function staticCheck(
  out: Sink,
  name: string,
  command: string,
  args: string[],
): Promise<void> {
  out.write(`\n── ${name}: ${[command, ...args].join(" ")}\n`);
  const { code } = await run(command, args, { out });
  if (code === 0) {
    tally.passed++;
    out.write(`── ${name}: ok\n`);
  } else {
    tally.failed++;
    tally.failures.push(`check ${name} (exit ${code})`);
  }
}

async function staticChecks(out: Sink): Promise<void> {
  await staticCheck(out, "format", bin("deno"), ["fmt", "--check"]);
  await staticCheck(out, "lint", bin("deno"), ["lint"]);
  await staticCheck(out, "tsc", bin("tsc"), ["--noEmit", "-p", "."]);
  const entries = [...Object.values(readJson("deno.json").exports as Record<string, string>)];
  await staticCheck(out, "deno check", bin("deno"), ["check", ...entries]);
  const outDir = mkdtempSync(join(tmpdir(), "ferry-dist-"));
  await staticCheck(out, "build", bin("tsc"), ["-p", "tsconfig.build.json", "--outDir", outDir]);
  rmSync(outDir, { recursive: true, force: true });
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(root, path), "utf8"));
}

async function nodeTests(out: Sink, filters: string[]): Promise<void> {
  const files = [
    ...findTests("test/unit", filters),
    ...findTests("test/node", filters),
    ...findTests("test/browser", filters),
  ];
  if (files.length === 0) return;
  out.write(`\n── node: ${files.length} test files\n`);
  const tapDir = mkdtempSync(join(tmpdir(), "ferry-tap-"));
  const tap = join(tapDir, "node.tap");
  const { code } = await run(process.execPath, [
    "--import",
    "tsx",
    "--test",
    "--test-concurrency=2",
    "--test-timeout=300000",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    "--test-reporter=tap",
    `--test-reporter-destination=${tap}`,
    ...files,
  ], { out });
  const text = existsSync(tap) ? readFileSync(tap, "utf8") : "";
  rmSync(tapDir, { recursive: true, force: true });
  const pass = Number(/^# pass (\d+)$/m.exec(text)?.[1] ?? 0);
  const fail = Number(/^# fail (\d+)$/m.exec(text)?.[1] ?? 0);
  const cancelled = Number(/^# cancelled (\d+)$/m.exec(text)?.[1] ?? 0);
  tally.passed += pass;
  tally.failed += fail + cancelled;
  if (fail + cancelled > 0) tally.failures.push(`node: ${fail} failed, ${cancelled} cancelled`);
  if (code !== 0 && fail + cancelled === 0) {
    tally.failed++;
    tally.failures.push(`node test runner exited ${code} without a counted failure`);
  }
}

async function denoTests(out: Sink, filters: string[]): Promise<void> {
  const files = [...findTests("test/unit", filters), ...findTests("test/deno", filters)];
  if (files.length === 0) return;
  out.write(`\n── deno: ${files.length} test files\n`);
  const { code, output } = await run(bin("deno"), ["test", "-A", "--no-check", ...files], {
    capture: true,
    env: { NO_COLOR: "1" },
    out,
  });
  const summary = /^(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/m.exec(
    output,
  );
  const pass = Number(summary?.[1] ?? 0);
  const fail = Number(summary?.[2] ?? 0);
  tally.passed += pass;
  tally.failed += fail;
  if (fail > 0) tally.failures.push(`deno: ${fail} failed`);
  if (code !== 0 && fail === 0) {
    tally.failed++;
    tally.failures.push(`deno test exited ${code} without a counted failure`);
  }
}

/** The test/node files Bun runs: the Node adapters' conformance suites and the TLS refusals. */
const BUN_TESTS =
  /^test\/node\/(conformance-node-[^/]+|adapters-node-tls|tls-certificate|ws-connect-tls)\.test\.ts$/;

async function bunTests(out: Sink, filters: string[]): Promise<void> {
  const files = findTests("test/node", filters).filter((file) => BUN_TESTS.test(file));
  if (files.length === 0) return;
  out.write(`\n── bun: ${files.length} test files\n`);
  const { code, output } = await run(
    bin("bun"),
    ["test", "--timeout=300000", ...files.map((file) => `./${file}`)],
    { capture: true, env: { NO_COLOR: "1" }, out },
  );
  const count = (word: string) =>
    Number(new RegExp(`^ *(\\d+) ${word}$`, "m").exec(output)?.[1] ?? 0);
  const pass = count("pass");
  const fail = count("fail");
  const skip = count("skip");
  if (skip > 0) out.write(`── bun: ${skip} skipped, each listed above with why\n`);
  tally.passed += pass;
  tally.failed += fail;
  if (fail > 0) tally.failures.push(`bun: ${fail} failed`);
  if (code !== 0 && fail === 0) {
    tally.failed++;
    tally.failures.push(`bun test exited ${code} without a counted failure`);
  }
  if (pass === 0 && code === 0) {
    tally.failed++;
    tally.failures.push("bun test ran no test");
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const onlyIndex = argv.indexOf("--only");
  const only = onlyIndex >= 0 ? argv[onlyIndex + 1] : undefined;
  // Filters are the arguments that are neither flags nor the value of --only (npm strips the
  // `--` of `npm test -- x`, so a filter may come with or without it).
  const filters = argv.filter((arg, i) => !arg.startsWith("--") && i !== onlyIndex + 1);
  const serial = argv.includes("--serial") || only !== undefined;
  const started = Date.now();
  const wanted = (part: string) => !only || only === part;
  const nodeLane = async (out: Sink) => {
    if (wanted("node")) await timed(out, "node", () => nodeTests(out, filters));
  };
  const otherLane = async (out: Sink) => {
    if (wanted("static")) await timed(out, "static checks", () => staticChecks(out));
    if (wanted("deno")) await timed(out, "deno", () => denoTests(out, filters));
    if (wanted("bun")) await timed(out, "bun", () => bunTests(out, filters));
  };
  if (serial) {
    await otherLane(live);
    await nodeLane(live);
  } else {
    await Promise.all([nodeLane(live), otherLane(heldSink())]);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`\n── finished in ${seconds} s\n`);
  for (const f of tally.failures) process.stdout.write(`   failed: ${f}\n`);
  process.stdout.write(`${tally.passed} passed, ${tally.failed} failed\n`);
  process.exitCode = tally.failed === 0 && tally.passed > 0 ? 0 : 1;
}

await main();
