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
import { ownCpuSeconds, processCpuSeconds } from "./cpu-meter.ts";
import { median } from "./statistics.ts";

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
  /** `subjectValue / baselineValue`. */
  readonly ratio: number;
  /** Whether the ratio meets the row's target (undefined when the row has none). */
  readonly ok: boolean | undefined;
}

/** The outcome of one case. */
export interface CaseResult {
  readonly name: string;
  readonly description: string;
  readonly contestants: readonly ContestantResult[];
  readonly rows: readonly RowResult[];
  readonly seconds: number;
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
  const opened: Array<{ name: string; contestant: OpenContestant }> = [];
  try {
    for (const contestant of benchCase.contestants) {
      opened.push({ name: contestant.name, contestant: await contestant.open(context) });
    }
    for (const { name, contestant } of opened) {
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
      rows: benchCase.rows.map((row) => compare(benchCase.name, row, contestants)),
      seconds: (performance.now() - startedAt) / 1000,
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
 * Runs once (failing after {@linkcode runTimeoutMs}) and adds the CPU seconds the client (`clientCpuSeconds`) and the server process
 * (`serverCpuSeconds`, where readable) spent meanwhile.
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
  return serverBefore === undefined || serverAfter === undefined
    ? { ...sample, clientCpuSeconds }
    : { ...sample, clientCpuSeconds, serverCpuSeconds: serverAfter - serverBefore };
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
    result[key] = median(rounds.map((sample) => sample[key]!));
  }
  return result;
}

function compare(
  caseName: string,
  row: ComparisonRow,
  contestants: readonly ContestantResult[],
): RowResult {
  const figure = (name: string) => {
    const contestant = contestants.find((c) => c.name === name);
    const value = contestant?.median[row.metric];
    if (value === undefined) {
      throw new Error(`bench case ${caseName}: row ${row.name} needs "${row.metric}" of ${name}`);
    }
    return value;
  };
  const subjectValue = figure(row.subject);
  const baselineValue = figure(row.baseline);
  const ratio = subjectValue / baselineValue;
  const ok = row.target === undefined
    ? undefined
    : row.target.op === ">="
    ? ratio >= row.target.ratio
    : ratio <= row.target.ratio;
  return { caseName, row, subjectValue, baselineValue, ratio, ok };
}

function formatSample(sample: Sample): string {
  return Object.entries(sample)
    .map(([key, value]) => `${key}=${Number.isInteger(value) ? value : value.toFixed(2)}`)
    .join(" ");
}
