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
 * Each static check counts as one test. The last line is `N passed, M failed` over all of them;
 * the exit status is 0 only when nothing failed. `--only static|node|deno|bun` runs one part;
 * extra arguments after `--` are test file filters (substrings of the path).
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

function run(
  command: string,
  args: string[],
  options: { capture?: boolean; env?: Record<string, string> } = {},
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const forward = (stream: NodeJS.WriteStream) => (chunk: Buffer) => {
      const text = chunk.toString();
      if (options.capture) output += text;
      stream.write(text);
    };
    child.stdout.on("data", forward(process.stdout));
    child.stderr.on("data", forward(process.stderr));
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

async function staticCheck(name: string, command: string, args: string[]): Promise<void> {
  process.stdout.write(`\n── ${name}: ${[command, ...args].join(" ")}\n`);
  const { code } = await run(command, args);
  if (code === 0) {
    tally.passed++;
    process.stdout.write(`── ${name}: ok\n`);
  } else {
    tally.failed++;
    tally.failures.push(`check ${name} (exit ${code})`);
  }
}

async function staticChecks(): Promise<void> {
  await staticCheck("format", bin("deno"), ["fmt", "--check"]);
  await staticCheck("lint", bin("deno"), ["lint"]);
  await staticCheck("tsc", bin("tsc"), ["--noEmit", "-p", "."]);
  const entries = [...Object.values(readJson("deno.json").exports as Record<string, string>)];
  await staticCheck("deno check", bin("deno"), ["check", ...entries]);
  const outDir = mkdtempSync(join(tmpdir(), "ferry-dist-"));
  await staticCheck("build", bin("tsc"), ["-p", "tsconfig.build.json", "--outDir", outDir]);
  rmSync(outDir, { recursive: true, force: true });
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(root, path), "utf8"));
}

async function nodeTests(filters: string[]): Promise<void> {
  const files = [
    ...findTests("test/unit", filters),
    ...findTests("test/node", filters),
    ...findTests("test/browser", filters),
  ];
  if (files.length === 0) return;
  process.stdout.write(`\n── node: ${files.length} test files\n`);
  const tapDir = mkdtempSync(join(tmpdir(), "ferry-tap-"));
  const tap = join(tapDir, "node.tap");
  const { code } = await run(process.execPath, [
    "--import",
    "tsx",
    "--test",
    "--test-concurrency=2",
    "--test-timeout=180000",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    "--test-reporter=tap",
    `--test-reporter-destination=${tap}`,
    ...files,
  ]);
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

async function denoTests(filters: string[]): Promise<void> {
  const files = [...findTests("test/unit", filters), ...findTests("test/deno", filters)];
  if (files.length === 0) return;
  process.stdout.write(`\n── deno: ${files.length} test files\n`);
  const { code, output } = await run(bin("deno"), ["test", "-A", "--no-check", ...files], {
    capture: true,
    env: { NO_COLOR: "1" },
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

async function bunTests(filters: string[]): Promise<void> {
  const files = findTests("test/node", filters).filter((file) => BUN_TESTS.test(file));
  if (files.length === 0) return;
  process.stdout.write(`\n── bun: ${files.length} test files\n`);
  const { code, output } = await run(
    bin("bun"),
    ["test", "--timeout=180000", ...files.map((file) => `./${file}`)],
    { capture: true, env: { NO_COLOR: "1" } },
  );
  const count = (word: string) =>
    Number(new RegExp(`^ *(\\d+) ${word}$`, "m").exec(output)?.[1] ?? 0);
  const pass = count("pass");
  const fail = count("fail");
  const skip = count("skip");
  if (skip > 0) process.stdout.write(`── bun: ${skip} skipped, each listed above with why\n`);
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
  const dashDash = argv.indexOf("--");
  const filters = dashDash >= 0 ? argv.slice(dashDash + 1) : [];
  const started = Date.now();
  if (!only || only === "static") await staticChecks();
  if (!only || only === "node") await nodeTests(filters);
  if (!only || only === "deno") await denoTests(filters);
  if (!only || only === "bun") await bunTests(filters);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`\n── finished in ${seconds} s\n`);
  for (const f of tally.failures) process.stdout.write(`   failed: ${f}\n`);
  process.stdout.write(`${tally.passed} passed, ${tally.failed} failed\n`);
  process.exitCode = tally.failed === 0 && tally.passed > 0 ? 0 : 1;
}

await main();
