/**
 * The shape of one benchmark: a case pits Ferry against one or more baselines on the same work,
 * in the same process setup, and reports rows that compare one metric of two contestants.
 *
 * A case is data plus small driver objects, so later issues add cases (pool lease/release,
 * WebSocket blasts, gateway runs) by writing one file in `bench/cases/` and listing it in
 * `bench/cases/all-cases.ts`; the runner, statistics and reports do not change.
 *
 * @module
 */

import type { ServerDirectory } from "./server-directory.ts";

/** One measurement of one contestant: named figures, e.g. `{ mibPerSecond: 1800 }`. */
export type Sample = Readonly<Record<string, number>>;

/** How big a run is: `warmup` primes JIT and sockets, `measure` is timed and reported. */
export type RunPhase = "warmup" | "measure";

/** What the runner hands to a case when it opens a contestant. */
export interface CaseContext {
  /** Smaller work for smoke tests (`--quick`). */
  readonly quick: boolean;
  /** Where the servers of the server process listen. */
  readonly servers: ServerDirectory;
  /** Process id of the server process (the runner records its CPU time around every run). */
  readonly serverPid: number;
}

/** A contestant, opened: connections are up, ready to run the case's work repeatedly. */
export interface OpenContestant {
  /** Runs the fixed amount of work for `phase` once and returns its figures. */
  run(phase: RunPhase): Promise<Sample>;
  /** Closes every connection the contestant opened. */
  close(): Promise<void>;
  /**
   * Every measured run starts fresh processes and warms them up itself, untimed: the runner's
   * separate warm-up run would warm processes that are gone by the first round, so it is skipped.
   */
  readonly warmsUpEachRun?: boolean;
}

/** One side of a comparison (Ferry, a raw `node:net` baseline, grpc-js, ...). */
export interface Contestant {
  /** Short name shown in the table, e.g. `ferry`, `raw-net`, `grpc-js`. */
  readonly name: string;
  /** What the contestant does, one line (printed in `--list` and stored in the JSON). */
  readonly description: string;
  open(context: CaseContext): Promise<OpenContestant>;
}

/** A ratio target: `ferry / baseline` must be `>=` or `<=` `ratio` to be ok. */
export interface RatioTarget {
  readonly op: ">=" | "<=";
  readonly ratio: number;
}

/** One printed row: one metric of Ferry compared with the same metric of one baseline. */
export interface ComparisonRow {
  /** Row name, unique across all cases (used by `--only` and by the JSON). */
  readonly name: string;
  /** The key of the figure in each contestant's {@linkcode Sample}. */
  readonly metric: string;
  /** Unit shown in the table, e.g. `MiB/s`, `req/s`, `µs`. */
  readonly unit: string;
  /** Whether a bigger figure is better (throughput) or worse (latency). */
  readonly higherIsBetter: boolean;
  /** Name of the Ferry contestant and of the baseline it is compared with. */
  readonly subject: string;
  readonly baseline: string;
  /** The target for `subject / baseline`, if it sets one. */
  readonly target?: RatioTarget;
  /**
   * The baseline's figure is this metric instead of `metric` (e.g. the same contestant's
   * `aloneP99Micros` against its `loadedP99Micros`).
   */
  readonly baselineMetric?: string;
  /**
   * An absolute bound instead of a baseline's figure (e.g. 2048 bytes of heap per idle
   * connection): the ratio is `subject / budget` and the baseline column shows the budget.
   */
  readonly budget?: number;
  /** What the table calls the baseline (default its name, or `budget`). */
  readonly baselineLabel?: string;
  /**
   * Subject and baseline were measured back to back in every round (e.g. in alternating fresh
   * processes): the ratio is then the geometric mean of the rounds' own ratios, printed with its
   * 95 % confidence interval (Student's t over the rounds' log ratios), so a small difference can
   * be told from the noise. The target is checked against that ratio.
   */
  readonly paired?: boolean;
}

/** A benchmark case. */
export interface BenchCase {
  /** Case name, used by `--only`. */
  readonly name: string;
  /** What is measured and how, one or two sentences. */
  readonly description: string;
  /** Server kinds (see `bench/servers/server-kinds.ts`) this case needs in the server process. */
  readonly servers: readonly string[];
  /** Every contestant of the case; each round runs all of them, in rotated order. */
  readonly contestants: readonly Contestant[];
  /** The rows this case prints. */
  readonly rows: readonly ComparisonRow[];
}
