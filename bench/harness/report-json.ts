/**
 * The JSON document `--json FILE` writes: environment, method, every row and every round, so a
 * later run (or the issue note) can compare figures without re-parsing the table.
 *
 * @module
 */

import os from "node:os";
import process from "node:process";
import type { CaseResult } from "./run-case.ts";

/** Options of the run, recorded with the figures. */
export interface RunDescription {
  readonly quick: boolean;
  readonly rounds: number;
  readonly only: readonly string[];
  readonly startedAt: Date;
  readonly finishedAt: Date;
  /** `os.loadavg()` before the run: other work on the machine makes figures noisy. */
  readonly loadAverageAtStart: readonly number[];
}

/** Builds the JSON report (schema `ferry-bench/1`). */
export function buildJsonReport(run: RunDescription, cases: readonly CaseResult[]): unknown {
  return {
    schema: "ferry-bench/1",
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt.toISOString(),
    options: { quick: run.quick, rounds: run.rounds, only: run.only },
    environment: {
      node: process.version,
      v8: process.versions.v8,
      platform: process.platform,
      arch: process.arch,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      totalMemoryBytes: os.totalmem(),
      loadAverageAtStart: run.loadAverageAtStart,
      loadAverageAtEnd: os.loadavg(),
    },
    method: "Every Node and Deno contestant runs its client and its server in fresh processes " +
      "each round, warmed up untimed in the same pair (the gateway case shares one server " +
      "process); each case runs rounds in rotated order; figures are per-round medians, " +
      "ratio = ferry / baseline. CPU = client + server process CPU over the measured run.",
    rows: cases.flatMap((result) =>
      result.rows.map((row) => ({
        name: row.row.name,
        case: row.caseName,
        metric: row.row.metric,
        unit: row.row.unit,
        higherIsBetter: row.row.higherIsBetter,
        subject: row.row.subject,
        baseline: row.row.budget !== undefined ? "budget" : row.row.baseline,
        baselineMetric: row.row.baselineMetric ?? row.row.metric,
        subjectValue: row.subjectValue,
        baselineValue: row.baselineValue,
        ratio: row.ratio,
        ratioInterval95: row.interval ?? null,
        target: row.row.target ?? null,
        ok: row.ok ?? null,
        loadAverage: row.loadAverage,
        cpu: row.cpu ?? null,
      }))
    ),
    cases: cases.map((result) => ({
      name: result.name,
      description: result.description,
      seconds: result.seconds,
      loadAverage: result.loadAverage,
      contestants: result.contestants,
    })),
  };
}
