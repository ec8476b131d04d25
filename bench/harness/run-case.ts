/**
 * Runs one case: opens every contestant, warms each up, then runs `rounds` measured rounds. Each
 * round runs every contestant once, in an order rotated by one per round (A B C, B C A, C A B, ...)
 * so slow drift (thermal, GC heap growth, the other process) hits every contestant alike. The
 * figure of a contestant is the median over rounds; a row's ratio is Ferry's median over the
 * baseline's median.
 *
 * @module
 */

import type {
  BenchCase,
  CaseContext,
  ComparisonRow,
  OpenContestant,
  RunPhase,
  Sample,
} from "./bench-case.ts";
import os from "node:os";
import { ownCpuSeconds, processCpuSeconds } from "./cpu-meter.ts";
import { median, ratioInterval } from "./statistics.ts";

/** Every round of one contestant, and the per-metric medians. */
export interface ContestantResult {
  readonly name: string;
  readonly description: string;
  readonly rounds: readonly Sample[];
  readonly median: Sample;
}

/** One row of the report. */
export interface RowResult {
  readonly caseName: string;
  readonly row: ComparisonRow;
  readonly subjectValue: number;
  readonly baselineValue: number;
  /**
   * `subjectValue / baselineValue`; for a paired row the geometric mean of the rounds' ratios.
   */
  readonly ratio: number;
  /** A paired row's 95 % confidence interval of `ratio` (from two rounds on). */
  readonly interval?: readonly [number, number];
  /** Whether the ratio meets the row's target (undefined when the row has none). */
  readonly ok: boolean | undefined;
  /** One-minute load average when the row's case started. */
  readonly loadAverage: number;
  /** CPU cost (client + server) of the work of subject and baseline, where the samples tell. */
  readonly cpu: RowCpu | undefined;
}

/** CPU seconds per GiB moved, or CPU microseconds per request, of both sides of a row. */
export interface RowCpu {
  readonly unit: "s/GiB" | "µs/req";
  readonly subject: number;
  readonly baseline: number;
}

/** The outcome of one case. */
export interface CaseResult {
  readonly name: string;
  readonly description: string;
  readonly contestants: readonly ContestantResult[];
  readonly rows: readonly RowResult[];
  readonly seconds: number;
  /** One-minute load average when the case started. */
  readonly loadAverage: number;
}

/** Receives progress lines (the runner prints them to stderr). */
export type ProgressLog = (line: string) => void;

export async function runCase(
  benchCase: BenchCase,
  context: CaseContext,
  rounds: number,
  log: ProgressLog,
): Promise<CaseResult> {
  const startedAt = performance.now();
  const loadAverage = os.loadavg()[0]!;
  log(`${benchCase.name}: load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  const opened: Array<{ name: string; contestant: OpenContestant }> = [];
  try {
    for (const contestant of benchCase.contestants) {
      opened.push({ name: contestant.name, contestant: await contestant.open(context) });
    }
    for (const { name, contestant } of opened) {
      if (contestant.warmsUpEachRun === true) continue;
      const sample = await measure(name, contestant, "warmup", context.serverPid);
      log(`${benchCase.name}: warm-up ${name} ${formatSample(sample)}`);
    }
    const samples = new Map<string, Sample[]>(opened.map(({ name }) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < opened.length; i++) {
        const { name, contestant } = opened[(round + i) % opened.length]!;
        const sample = await measure(name, contestant, "measure", context.serverPid);
        samples.get(name)!.push(sample);
        log(`${benchCase.name}: round ${round + 1}/${rounds} ${name} ${formatSample(sample)}`);
      }
    }
    const contestants = benchCase.contestants.map((contestant): ContestantResult => {
      const rounds = samples.get(contestant.name)!;
      return {
        name: contestant.name,
        description: contestant.description,
        rounds,
        median: medianSample(rounds),
      };
    });
    return {
      name: benchCase.name,
      description: benchCase.description,
      contestants,
      rows: benchCase.rows.map((row) => compare(benchCase.name, row, contestants, loadAverage)),
      seconds: (performance.now() - startedAt) / 1000,
      loadAverage,
    };
  } finally {
    const closing = await Promise.allSettled(opened.map(({ contestant }) => contestant.close()));
    for (const outcome of closing) {
      if (outcome.status === "rejected") log(`${benchCase.name}: close failed: ${outcome.reason}`);
    }
  }
}

/**
 * A run that takes longer than this is reported as a crash (a hung transfer must not hang the
 * bench or CI): generous, since a full run of any case takes a few seconds.
 */
export const runTimeoutMs = 120_000;

/**
 * Runs once (failing after {@linkcode runTimeoutMs}). A contestant whose processes report their own
 * `clientCpuSeconds` / `serverCpuSeconds` keeps them; otherwise the runner's CPU seconds
 * (`clientCpuSeconds`: its client ran here) and the shared server process's (where readable) are
 * added. Then {@linkcode withCpuPerWork} adds the CPU per unit of work.
 */
async function measure(
  name: string,
  contestant: OpenContestant,
  phase: RunPhase,
  serverPid: number,
): Promise<Sample> {
  const serverBefore = processCpuSeconds(serverPid);
  const clientBefore = ownCpuSeconds();
  const sample = await withTimeout(contestant.run(phase), `${phase} run of ${name}`);
  const clientCpuSeconds = ownCpuSeconds() - clientBefore;
  const serverAfter = processCpuSeconds(serverPid);
  const measured: Record<string, number> = { clientCpuSeconds };
  if (serverBefore !== undefined && serverAfter !== undefined) {
    measured.serverCpuSeconds = serverAfter - serverBefore;
  }
  return withCpuPerWork({ ...measured, ...sample });
}

const MiBPerGiB = 1024;

/**
 * Adds `cpuSecondsPerGiB` (client + server (+ Chromium) CPU seconds per GiB moved; from `mibPerSecond` and
 * `seconds`) or `cpuMicrosPerRequest` (from `requests`) to a sample that has the figures.
 */
export function withCpuPerWork(sample: Sample): Sample {
  const cpu = (sample.clientCpuSeconds ?? 0) + (sample.serverCpuSeconds ?? 0) +
    (sample.chromiumCpuSeconds ?? 0);
  if (sample.mibPerSecond !== undefined && sample.seconds !== undefined) {
    const gib = (sample.mibPerSecond * sample.seconds) / MiBPerGiB;
    return gib > 0 ? { ...sample, cpuSecondsPerGiB: cpu / gib } : sample;
  }
  if (sample.requests !== undefined && sample.requests > 0) {
    return { ...sample, cpuMicrosPerRequest: (cpu / sample.requests) * 1e6 };
  }
  return sample;
}

function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`bench: the ${what} did not finish within ${runTimeoutMs} ms`)),
      runTimeoutMs,
    );
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

function medianSample(rounds: readonly Sample[]): Sample {
  const result: Record<string, number> = {};
  for (const key of Object.keys(rounds[0] ?? {})) {
    const values = rounds.map((sample) => sample[key]).filter((v) => v !== undefined);
    result[key] = median(values);
  }
  return result;
}

function compare(
  caseName: string,
  row: ComparisonRow,
  contestants: readonly ContestantResult[],
  loadAverage: number,
): RowResult {
  const figure = (name: string, metric: string) => {
    const contestant = contestants.find((c) => c.name === name);
    const value = contestant?.median[metric];
    if (value === undefined) {
      throw new Error(`bench case ${caseName}: row ${row.name} needs "${metric}" of ${name}`);
    }
    return value;
  };
  const subjectValue = figure(row.subject, row.metric);
  const baselineValue = row.budget ?? figure(row.baseline, row.baselineMetric ?? row.metric);
  const paired = row.paired === true ? pairedRatio(row, contestants) : undefined;
  const ratio = paired?.ratio ?? subjectValue / baselineValue;
  const ok = row.target === undefined
    ? undefined
    : row.target.op === ">="
    ? ratio >= row.target.ratio
    : ratio <= row.target.ratio;
  return {
    caseName,
    row,
    subjectValue,
    baselineValue,
    ratio,
    ...(paired?.interval === undefined ? {} : { interval: paired.interval }),
    ok,
    loadAverage,
    cpu: rowCpu(row, contestants),
  };
}

/** A paired row's ratio: each round's subject figure over the same round's baseline figure. */
function pairedRatio(row: ComparisonRow, contestants: readonly ContestantResult[]) {
  const rounds = (name: string) => contestants.find((c) => c.name === name)?.rounds ?? [];
  const subject = rounds(row.subject);
  const baseline = rounds(row.baseline);
  const ratios = subject.map((sample, round) =>
    sample[row.metric]! / baseline[round]![row.baselineMetric ?? row.metric]!
  );
  return ratioInterval(ratios);
}

function rowCpu(row: ComparisonRow, contestants: readonly ContestantResult[]): RowCpu | undefined {
  const median = (name: string) => contestants.find((c) => c.name === name)?.median;
  const subject = median(row.subject);
  const baseline = median(row.baseline);
  for (const [key, unit] of [["cpuSecondsPerGiB", "s/GiB"], ["cpuMicrosPerRequest", "µs/req"]]) {
    const s = subject?.[key!];
    const b = baseline?.[key!];
    if (s !== undefined && b !== undefined) {
      return { unit: unit as RowCpu["unit"], subject: s, baseline: b };
    }
  }
  return undefined;
}

function formatSample(sample: Sample): string {
  return Object.entries(sample)
    .map(([key, value]) => `${key}=${Number.isInteger(value) ? value : value.toFixed(2)}`)
    .join(" ");
}
