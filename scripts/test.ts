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
 * The Node runner runs several files at once (`nodeConcurrency`), slowest first by the times of
 * the earlier runs it keeps in `.cache/test-times.txt`, and ends with the slowest files of the run;
 * Deno runs its files in parallel too.
 *
 * Each static check counts as one test. The last line is `N passed, M failed` over all of them;
 * the exit status is 0 only when nothing failed. `--only static|node|deno|bun` runs one part;
 * other arguments are test file filters (substrings of the path).
 *
 * @module
 */

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, relative } from "node:path";
import process from "node:process";
import { finished } from "node:stream/promises";
import { run as runTests } from "node:test";
import { spec, tap } from "node:test/reporters";

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
  const started = Date.now();
  const { code } = await run(command, args, { out });
  if (code === 0) {
    tally.passed++;
    out.write(`── ${name}: ok (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
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

/**
 * Seconds per Node test file of earlier runs (`.cache/test-times.txt`, written by each run of the
 * Node tests, one `seconds path` line per file), so a run can start the slowest files first.
 */
const timesFile = join(root, ".cache", "test-times.txt");

function readTimes(path: string): Map<string, number> {
  const times = new Map<string, number>();
  if (!existsSync(path)) return times;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const match = /^(\d+(?:\.\d+)?) (\S+)$/.exec(line);
    if (match) times.set(match[2]!, Number(match[1]));
  }
  return times;
}

/**
 * Seconds assumed for a file no earlier run timed (a fresh clone's first run, a new file): the
 * files under test/node and test/browser start sockets, processes and browsers and take seconds
 * to minutes; those under test/unit take about a second.
 */
const untimedSeconds = (file: string) => file.startsWith("test/unit/") ? 1 : 30;

/**
 * The files in the order to start them: slowest first, by the times of earlier runs, so that no
 * long file starts last and leaves the other workers idle at the end while it runs alone.
 */
function slowestFirst(files: string[], times: Map<string, number>): string[] {
  const rank = (file: string) => times.get(file) ?? untimedSeconds(file);
  return [...files].sort((a, b) => rank(b) - rank(a));
}

/** Keeps this run's times (over the earlier ones) and prints the slowest files. */
function recordTimes(out: Sink, fresh: Map<string, number>): void {
  if (fresh.size === 0) return;
  const times = readTimes(timesFile);
  for (const [file, seconds] of fresh) times.set(file, seconds);
  mkdirSync(join(root, ".cache"), { recursive: true });
  const lines = [...times].sort(([a], [b]) => a.localeCompare(b)).map(([f, s]) =>
    `${s.toFixed(3)} ${f}`
  );
  writeFileSync(timesFile, `${lines.join("\n")}\n`);
  const slowest = [...fresh].sort(([, a], [, b]) => b - a).slice(0, 12);
  out.write(`\n── node: the slowest of ${fresh.size} files\n`);
  for (const [file, seconds] of slowest) {
    out.write(`${seconds.toFixed(1).padStart(7)} s  ${file}\n`);
  }
}

/**
 * Test files the Node runner runs at once. Most of a test file's time is spent waiting (on
 * sockets, child processes, Chromium, Deno), not computing: in a run with two at once the Node
 * files used about half of two cores, so four at once keeps the cores busy without the files
 * queueing behind each other.
 */
const nodeConcurrency = Math.min(8, 2 * availableParallelism());

async function nodeTests(out: Sink, filters: string[]): Promise<void> {
  const files = slowestFirst([
    ...findTests("test/unit", filters),
    ...findTests("test/node", filters),
    ...findTests("test/browser", filters),
  ], readTimes(timesFile));
  if (files.length === 0) return;
  out.write(`\n── node: ${files.length} test files, ${nodeConcurrency} at a time\n`);
  // `run()` rather than `node --test FILES`, which sorts the files by name: this way they start
  // in the order given. Each file still runs in its own child process, which inherits this
  // process's `--import tsx`.
  const stream = runTests({
    files: files.map((file) => join(root, file)),
    concurrency: nodeConcurrency,
    timeout: 300_000,
  });
  const times = new Map<string, number>();
  stream.on("test:complete", (data) => {
    // The test a file's child process is, with the file's path for a name; the file's own tests
    // are named by their title and nest in it.
    if (data.nesting === 0 && data.file !== undefined && data.name === data.file) {
      times.set(relative(root, data.file), data.details.duration_ms / 1000);
    }
  });
  let text = "";
  await Promise.all([
    finished(
      stream.compose(new spec()).on("data", (chunk: string | Buffer) => out.write(String(chunk))),
    ),
    finished(stream.compose(tap).on("data", (chunk: string) => (text += chunk))),
  ]);
  recordTimes(out, times);
  const pass = Number(/^# pass (\d+)$/m.exec(text)?.[1] ?? 0);
  const fail = Number(/^# fail (\d+)$/m.exec(text)?.[1] ?? 0);
  const cancelled = Number(/^# cancelled (\d+)$/m.exec(text)?.[1] ?? 0);
  tally.passed += pass;
  tally.failed += fail + cancelled;
  if (fail + cancelled > 0) tally.failures.push(`node: ${fail} failed, ${cancelled} cancelled`);
  if (pass === 0 && fail + cancelled === 0) {
    tally.failed++;
    tally.failures.push("the node test runner reported no test");
  }
}

async function denoTests(out: Sink, filters: string[]): Promise<void> {
  const files = [...findTests("test/unit", filters), ...findTests("test/deno", filters)];
  if (files.length === 0) return;
  out.write(`\n── deno: ${files.length} test files\n`);
  // --parallel: the files in as many workers as there are cores (most of their time is waiting).
  const args = ["test", "-A", "--no-check", "--parallel", ...files];
  const { code, output } = await run(bin("deno"), args, {
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
