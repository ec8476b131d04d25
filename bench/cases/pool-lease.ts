/**
 * Pool lease+release throughput: 10 pooled connections, callers that lease one and release it at
 * once, with 1 and with 1000 callers outstanding (the second keeps ~990 waiters queued, so it
 * measures the waiter queue and hand-off path). The pooled objects are in-process stand-ins so
 * only the pools' own overhead is measured.
 *
 * - ferry-pool: `ConnectionPool`, exclusive leases (`maxStreamsPerConnection: 1`), `maxTotal` and
 *   `maxPerRoute` 10, its defaults otherwise (30 s lease deadline, idle eviction, LIFO reuse).
 * - generic-pool: `createPool(factory, { max: 10, min: 10 })`, its defaults otherwise.
 * - tarn: `new Pool({ create, destroy, min: 10, max: 10 })`, its defaults otherwise (30 s acquire
 *   deadline).
 *
 * Every contestant is driven by the same `keepInFlight` driver: one `then` per operation, and runs
 * in a fresh Node process every round (`fresh-process-contestant.ts`, no server), so no pool's
 * garbage or JIT state is in another's round.
 *
 * @module
 */

import { createPool } from "generic-pool";
import { Pool as TarnPool } from "tarn";
import { ConnectionPool } from "../../src/pool/connection-pool.ts";
import type { BenchCase, CaseContext, Contestant, RunPhase } from "../harness/bench-case.ts";
import { keepInFlight } from "../harness/keep-in-flight.ts";
import { freshProcessContestant } from "./fresh-process-contestant.ts";

const connections = 10;
const levels = [1, 1_000] as const;

/** A pooled connection stand-in: active until closed. */
class StandInConnection {
  isActive = true;
  readonly closed: Promise<void>;
  #resolve!: () => void;
  constructor() {
    this.closed = new Promise((resolve) => (this.#resolve = resolve));
  }
  close(): void {
    this.isActive = false;
    this.#resolve();
  }
}

function operations(context: CaseContext, phase: RunPhase): number {
  if (context.quick) return phase === "warmup" ? 2_000 : 20_000;
  return phase === "warmup" ? 50_000 : 400_000;
}

/** Runs both concurrency levels with `lease` / `release` of one pool. */
async function measure<R>(
  total: number,
  acquire: () => Promise<R>,
  release: (resource: R) => void,
) {
  const sample: Record<string, number> = {};
  for (const level of levels) {
    const startedAt = performance.now();
    await keepInFlight(total, level, acquire, release);
    sample[`opsPerSecondC${level}`] = total / ((performance.now() - startedAt) / 1000);
  }
  return sample;
}

/** Leases every connection once so each pool starts the run with 10 open. */
async function warm<R>(acquire: () => Promise<R>, release: (resource: R) => void) {
  const held = await Promise.all(Array.from({ length: connections }, acquire));
  for (const resource of held) release(resource);
}

const ferry: Contestant = {
  name: "ferry-pool",
  description:
    `ConnectionPool, ${connections} exclusive connections, maxTotal/maxPerRoute ${connections}, defaults otherwise`,
  async open(context) {
    const pool = new ConnectionPool<StandInConnection>({
      connector: () => Promise.resolve(new StandInConnection()),
      maxTotal: connections,
      maxPerRoute: connections,
      maxStreamsPerConnection: 1,
    });
    const acquire = () => pool.lease("bench");
    const release = (lease: { release(): void }) => lease.release();
    await warm(acquire, release);
    return {
      run: (phase) => measure(operations(context, phase), acquire, release),
      close: () => pool.close(),
    };
  },
};

const genericPool: Contestant = {
  name: "generic-pool",
  description: `generic-pool createPool, max/min ${connections}, defaults otherwise`,
  async open(context) {
    const pool = createPool<StandInConnection>({
      create: () => Promise.resolve(new StandInConnection()),
      destroy: (resource) => {
        resource.close();
        return Promise.resolve();
      },
    }, { max: connections, min: connections });
    const acquire = () => pool.acquire() as Promise<StandInConnection>;
    const release = (resource: StandInConnection) => void pool.release(resource);
    await warm(acquire, release);
    return {
      run: (phase) => measure(operations(context, phase), acquire, release),
      close: async () => {
        await pool.drain();
        await pool.clear();
      },
    };
  },
};

const tarn: Contestant = {
  name: "tarn",
  description: `tarn Pool, min/max ${connections}, defaults otherwise`,
  async open(context) {
    const pool = new TarnPool<StandInConnection>({
      create: () => Promise.resolve(new StandInConnection()),
      destroy: (resource) => resource.close(),
      min: connections,
      max: connections,
    });
    const acquire = () => pool.acquire().promise;
    const release = (resource: StandInConnection) => void pool.release(resource);
    await warm(acquire, release);
    return {
      run: (phase) => measure(operations(context, phase), acquire, release),
      close: async () => {
        await pool.destroy();
      },
    };
  },
};

/** The in-process contestants, by name, for `bench/node/contestant-host.ts`. */
export const contestants: Record<string, Contestant> = Object.fromEntries(
  [ferry, genericPool, tarn].map((contestant) => [contestant.name, contestant]),
);

const rowsFor = (level: number) =>
  (["generic-pool", "tarn"] as const).map((baseline) => ({
    name: `pool-lease-c${level}-vs-${baseline}`,
    metric: `opsPerSecondC${level}`,
    unit: "ops/s",
    higherIsBetter: true,
    subject: "ferry-pool",
    baseline,
    target: { op: ">=" as const, ratio: 3 },
  }));

export const poolLeaseCase: BenchCase = {
  name: "pool-lease",
  description:
    `lease+release of ${connections} pooled connections with 1 and 1000 callers outstanding, against generic-pool and tarn`,
  servers: [],
  contestants: [ferry, genericPool, tarn].map((inProcess) =>
    freshProcessContestant({
      name: inProcess.name,
      description: `${inProcess.description}; in a fresh process every round`,
      module: "bench/cases/pool-lease.ts",
      servers: [],
    })
  ),
  rows: levels.flatMap(rowsFor),
};
