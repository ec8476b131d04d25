/**
 * Keeps the benchmark from rotting: runs `bench/run.ts --quick --json FILE` as a child process and
 * checks that it completes, prints a table row for every row of every case, and writes a JSON
 * report with a finite positive figure on both sides of every row. No timing is asserted.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { allCases } from "../../bench/cases/all-cases.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

function runBench(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/run.ts", ...args], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    const timer = setTimeout(() => child.kill("SIGKILL"), 270_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test("bench --quick runs every case and reports every row", { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "ferry-bench-smoke-"));
  try {
    const jsonFile = join(dir, "bench.json");
    const { code, stdout, stderr } = await runBench(["--quick", "--json", jsonFile]);
    assert.equal(code, 0, `bench exited with ${code}\nstdout:\n${stdout}\nstderr:\n${stderr}`);

    const expectedRows = allCases.flatMap((benchCase) => benchCase.rows.map((row) => row.name));
    assert.ok(expectedRows.length > 0);
    const tableLines = stdout.split("\n");
    assert.ok(
      tableLines.some((line) => /^name\s+unit\s+ferry\s+baseline\s+ratio/.test(line)),
      stdout,
    );
    for (const name of expectedRows) {
      assert.ok(
        tableLines.some((line) => line.startsWith(`${name} `)),
        `no table row for ${name} in:\n${stdout}`,
      );
    }

    const report = JSON.parse(readFileSync(jsonFile, "utf8")) as {
      schema: string;
      options: { quick: boolean };
      rows: Array<{ name: string; subjectValue: number; baselineValue: number; ratio: number }>;
    };
    assert.equal(report.schema, "ferry-bench/1");
    assert.equal(report.options.quick, true);
    assert.deepEqual(report.rows.map((row) => row.name).sort(), [...expectedRows].sort());
    for (const row of report.rows) {
      for (const value of [row.subjectValue, row.baselineValue, row.ratio]) {
        assert.ok(
          Number.isFinite(value) && value > 0,
          `${row.name}: figure ${value} is not positive`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  "bench exits non-zero with a clear message on a bad argument",
  { timeout: 60_000 },
  async () => {
    const { code, stderr } = await runBench(["--rounds", "zero"]);
    assert.notEqual(code, 0);
    assert.match(stderr, /--rounds must be an integer from 1 to 100, got "zero"/);
  },
);

test(
  "bench --only with an unknown name fails and lists the known cases",
  { timeout: 60_000 },
  async () => {
    const { code, stderr } = await runBench(["--only", "no-such-case"]);
    assert.notEqual(code, 0);
    assert.match(stderr, /matches no case \(known: .*chunk-fetch/);
  },
);
