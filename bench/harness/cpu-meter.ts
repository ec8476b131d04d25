/**
 * CPU time of the client (this process) and of the server process, recorded around every run so
 * a slow figure can be told apart: a side that used its core fully is CPU-bound; two sides that
 * both idled point at latency (too little in flight, a stall, a timer).
 *
 * @module
 */

import { existsSync, readdirSync, readFileSync } from "node:fs";
import process from "node:process";

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on every Linux port). */
const clockTicksPerSecond = 100;

/** CPU seconds (user + system, all threads) used so far by this process. */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/**
 * CPU seconds (user + system, all threads) used so far by process `pid`, from `/proc/<pid>/stat`;
 * undefined where that file does not exist (not Linux) or cannot be read.
 */
export function processCpuSeconds(pid: number): number | undefined {
  if (!(pid > 0)) return undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // Fields after the command name (which is in parentheses and may contain spaces).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);
  if (!Number.isFinite(userTicks) || !Number.isFinite(systemTicks)) return undefined;
  return (userTicks + systemTicks) / clockTicksPerSecond;
}

/** `/proc/<pid>/stat` fields after the command name, for every process; [] without `/proc`. */
function allProcessStats(): Array<{ pid: number; fields: string[] }> {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const stats: Array<{ pid: number; fields: string[] }> = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // Fields after the command name (which is in parentheses and may contain spaces).
    stats.push({ pid: Number(entry), fields: stat.slice(stat.lastIndexOf(")") + 2).split(" ") });
  }
  return stats;
}

/**
 * CPU seconds (user + system) used so far by the live processes of process group `pgid` (e.g. a
 * browser and its renderer, GPU and utility processes), from `/proc`; undefined where `/proc`
 * cannot be read. Processes of the group that already exited are not counted.
 */
export function processGroupCpuSeconds(pgid: number): number | undefined {
  if (!(pgid > 0) || !existsSync("/proc/self/stat")) return undefined;
  let seconds = 0;
  for (const { fields } of allProcessStats()) {
    if (Number(fields[2]) !== pgid) continue;
    const ticks = Number(fields[11]) + Number(fields[12]);
    if (Number.isFinite(ticks)) seconds += ticks / clockTicksPerSecond;
  }
  return seconds;
}

/** Process ids of the running (not zombie) members of process group `pgid`, from `/proc`. */
export function processGroupMembers(pgid: number): number[] {
  return allProcessStats()
    .filter(({ fields }) => Number(fields[2]) === pgid && fields[0] !== "Z")
    .map(({ pid }) => pid);
}
