/**
 * CPU time per thread and minor page faults per process of a process group, from `/proc`: where a
 * browser's CPU goes (the renderer's main thread `renderer/chromium`, the network service's IO
 * thread `utility:network/Chrome_ChildIOT`, a page's workers `renderer/DedicatedWorker`, ...) and
 * how much fresh memory each process touched. Threads are keyed `<process kind>/<thread name>`
 * (Chromium's `--type=`, `browser` for a process without one; trailing digits of thread names
 * folded, so a thread pool is one entry). A diagnostic: a thread that exits between two samples
 * takes its seconds with it (its process's total in `cpu-meter.ts` keeps them); a
 * {@linkcode ThreadWatch} reads in between and keeps them.
 *
 * @module
 */

import { readdirSync, readFileSync } from "node:fs";
import { processGroupMembers } from "./cpu-meter.ts";

export interface ThreadSample {
  /** `<process kind>/<thread name>` → CPU seconds so far (threads of one name summed). */
  readonly threads: Record<string, number>;
  /** `<process kind>` → minor page faults so far. */
  readonly minorFaults: Record<string, number>;
}

function statFields(path: string): string[] | undefined {
  try {
    const stat = readFileSync(path, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

function processKind(pid: number): string {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "gone";
  }
  const type = /--type=([a-z-]+)/.exec(cmdline)?.[1];
  if (type === undefined) return "browser";
  if (type === "utility") {
    const service = /--utility-sub-type=[a-z_.]*?([A-Za-z]+)Service\b/.exec(cmdline)?.[1];
    return service === undefined ? "utility" : `utility:${service.toLowerCase()}`;
  }
  return type;
}

/** Samples every thread of every live member of process group `pgid`. */
export function sampleThreads(pgid: number): ThreadSample {
  const { threads: readings, faults } = readThreads(pgid);
  const threads: Record<string, number> = {};
  for (const { key, seconds } of readings.values()) threads[key] = (threads[key] ?? 0) + seconds;
  const minorFaults: Record<string, number> = {};
  for (const { kind, faults: count } of faults.values()) {
    minorFaults[kind] = (minorFaults[kind] ?? 0) + count;
  }
  return { threads, minorFaults };
}

/** What changed between two samples (entries that did not change are left out). */
export function threadDelta(before: ThreadSample, after: ThreadSample): ThreadSample {
  const diff = (a: Record<string, number>, b: Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const [key, value] of Object.entries(b)) {
      const d = Math.round((value - (a[key] ?? 0)) * 100) / 100;
      if (d !== 0) out[key] = d;
    }
    return out;
  };
  return {
    threads: diff(before.threads, after.threads),
    minorFaults: diff(before.minorFaults, after.minorFaults),
  };
}

/** One thread as read from `/proc`: its key (as in {@linkcode ThreadSample}) and CPU so far. */
interface ThreadReading {
  readonly key: string;
  readonly seconds: number;
}

/** Every live thread of the group by `pid/tid`, and every process's minor faults by `pid`. */
function readThreads(pgid: number): {
  threads: Map<string, ThreadReading>;
  faults: Map<number, { kind: string; faults: number }>;
} {
  const threads = new Map<string, ThreadReading>();
  const faults = new Map<number, { kind: string; faults: number }>();
  for (const pid of processGroupMembers(pgid)) {
    const kind = processKind(pid);
    const fields = statFields(`/proc/${pid}/stat`);
    if (fields !== undefined) faults.set(pid, { kind, faults: Number(fields[7]) });
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const thread = statFields(`/proc/${pid}/task/${tid}/stat`);
      if (thread === undefined) continue;
      let name: string;
      try {
        name = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
      } catch {
        continue;
      }
      threads.set(`${pid}/${tid}`, {
        key: `${kind}/${name.replace(/\d+$/, "N")}`,
        seconds: (Number(thread[11]) + Number(thread[12])) / 100,
      });
    }
  }
  return { threads, faults };
}

/**
 * Like two {@linkcode sampleThreads} and their {@linkcode threadDelta}, but the group is read
 * every `intervalMs` in between, so a thread or process that ends before `stop()` (a page's
 * worker that ends with its download, such as the web demo's OPFS writer) keeps what it used up
 * to its last reading instead of taking it away. Costs the caller one `/proc` walk per interval.
 */
export class ThreadWatch {
  readonly #pgid: number;
  readonly #start: ReturnType<typeof readThreads>;
  readonly #last = new Map<string, ThreadReading>();
  readonly #lastFaults = new Map<number, { kind: string; faults: number }>();
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(pgid: number, intervalMs = 100) {
    this.#pgid = pgid;
    this.#start = readThreads(pgid);
    this.#timer = setInterval(() => this.read(), intervalMs);
    this.#timer.unref();
  }

  /** Reads the group now (the interval does it too). */
  read(): void {
    const now = readThreads(this.#pgid);
    for (const [id, reading] of now.threads) this.#last.set(id, reading);
    for (const [pid, faults] of now.faults) this.#lastFaults.set(pid, faults);
  }

  /** Stops reading; what each thread key and process kind used since the watch began. */
  stop(): ThreadSample {
    clearInterval(this.#timer);
    this.read();
    const threads: Record<string, number> = {};
    for (const [id, { key, seconds }] of this.#last) {
      threads[key] = (threads[key] ?? 0) + seconds - (this.#start.threads.get(id)?.seconds ?? 0);
    }
    const minorFaults: Record<string, number> = {};
    for (const [pid, { kind, faults }] of this.#lastFaults) {
      minorFaults[kind] = (minorFaults[kind] ?? 0) + faults -
        (this.#start.faults.get(pid)?.faults ?? 0);
    }
    const rounded = (values: Record<string, number>) => {
      const out: Record<string, number> = {};
      for (const [key, value] of Object.entries(values)) {
        const r = Math.round(value * 100) / 100;
        if (r !== 0) out[key] = r;
      }
      return out;
    };
    return { threads: rounded(threads), minorFaults: rounded(minorFaults) };
  }
}
