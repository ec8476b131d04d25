/**
 * `npm run bench`: runs the benchmark cases against baselines it starts itself and prints one
 * table (name, unit, ferry, baseline, ratio, target, ok?). See `bench/README.md` for the method.
 *
 * A missed target is reported, never a failure; the exit code is non-zero only when something
 * crashed (a contestant threw, a server did not start, bad arguments).
 *
 * @module
 */

import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, resolve } from "node:path";
import process from "node:process";
import { allCases } from "./cases/all-cases.ts";
import type { BenchCase } from "./harness/bench-case.ts";
import { type BenchOptions, parseBenchOptions, usage } from "./harness/cli-options.ts";
import { buildJsonReport } from "./harness/report-json.ts";
import { formatTable } from "./harness/report-table.ts";
import { type CaseResult, runCase } from "./harness/run-case.ts";
import { ServerDirectory } from "./harness/server-directory.ts";
import { type ServerProcess, startServerProcess } from "./harness/server-process.ts";

function selectCases(options: BenchOptions): readonly BenchCase[] {
  if (options.only.length === 0) return allCases;
  const selected = allCases.filter((benchCase) =>
    options.only.some((fragment) =>
      benchCase.name.includes(fragment) || benchCase.rows.some((row) => row.name.includes(fragment))
    )
  );
  if (selected.length === 0) {
    const known = allCases.flatMap((c) => [c.name, ...c.rows.map((r) => r.name)]).join(", ");
    throw new Error(`bench: --only ${options.only.join(",")} matches no case (known: ${known})`);
  }
  return selected;
}

function listCases(): string {
  return allCases.map((benchCase) =>
    [
      `${benchCase.name}: ${benchCase.description}`,
      ...benchCase.contestants.map((c) => `  ${c.name}: ${c.description}`),
      ...benchCase.rows.map((r) => `  row ${r.name} (${r.metric}, ${r.subject} vs ${r.baseline})`),
    ].join("\n")
  ).join("\n");
}

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(argv: readonly string[]): Promise<void> {
  const options = parseBenchOptions(argv);
  if (options.help) return void process.stdout.write(`${usage}\n`);
  if (options.list) return void process.stdout.write(`${listCases()}\n`);
  const cases = selectCases(options);
  const startedAt = new Date();
  const loadAverageAtStart = os.loadavg();
  const kinds = [...new Set(cases.flatMap((benchCase) => benchCase.servers))];
  const nodeFlags = options.serverCpuProfDir === undefined
    ? []
    : ["--cpu-prof", `--cpu-prof-dir=${resolve(options.serverCpuProfDir)}`];
  process.stdout.write(
    `Ferry bench: node ${process.version}, ${process.platform} ${process.arch}, ` +
      `${os.cpus().length} CPUs, load ${loadAverageAtStart[0]!.toFixed(2)}; ` +
      `${options.quick ? "quick" : "full"} sizes, ` +
      `${options.rounds} round(s), median; ` +
      (kinds.length > 0 ? `servers in a separate process (${kinds.join(", ")})\n` : "no servers\n"),
  );

  let server: ServerProcess | undefined;
  const results: CaseResult[] = [];
  try {
    // Cases that need no server (in-process ones such as pool-lease) run without the process.
    if (kinds.length > 0) server = await startServerProcess({ kinds, nodeFlags });
    const context = {
      quick: options.quick,
      servers: server?.directory ?? new ServerDirectory(new Map()),
      serverPid: server?.pid ?? -1,
    };
    for (const benchCase of cases) {
      const result = await runCase(benchCase, context, options.rounds, log);
      log(`${benchCase.name}: done in ${result.seconds.toFixed(1)} s`);
      results.push(result);
    }
  } finally {
    await server?.stop();
  }
  const load = os.loadavg()[0]!;
  if (load > os.cpus().length + 1) {
    log(
      `note: load average ${load.toFixed(2)} on ${os.cpus().length} CPUs: other work shared ` +
        `the machine, so the figures are noisier than usual`,
    );
  }

  process.stdout.write(`\n${formatTable(results.flatMap((result) => result.rows))}\n`);
  if (options.jsonFile !== undefined) {
    const report = buildJsonReport(
      { ...options, startedAt, finishedAt: new Date(), loadAverageAtStart },
      results,
    );
    const file = resolve(options.jsonFile);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`JSON written to ${file}\n`);
  }
}

main(process.argv.slice(2)).then(
  // Client libraries (grpc-js) may keep timers around after close: the run is over, so exit.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
