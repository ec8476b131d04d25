/**
 * How many streams `ferry serve` lets its `OneForOneStreamManager` hold: every file-service open
 * holds a descriptor, so the cap leaves at least half of the process's soft descriptor limit free
 * for listeners, connections and everything else (issue 15: descriptors must never be the first
 * thing to run out). The soft limit is read from `/proc/self/limits` on Linux; elsewhere, or when
 * it cannot be read or is unlimited, the library default applies.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { defaultLimits } from "../src/limits.ts";

/** Descriptors kept back below half the limit for what is not a stream (sockets, logs, stdio). */
const RESERVE = 64;

/** `maxStreams` for this process. */
export function streamCapForDescriptors(): number {
  return streamCapFromLimits(readLimits());
}

/** `maxStreams` for a process whose `/proc/self/limits` reads `limitsText` (undefined: unknown). */
export function streamCapFromLimits(limitsText: string | undefined): number {
  const soft = softDescriptorLimit(limitsText);
  if (soft === undefined) return defaultLimits.maxStreams;
  return Math.max(1, Math.floor(soft / 2) - RESERVE);
}

/** The "Max open files" soft limit in a `/proc/<pid>/limits` text, if it is a number. */
export function softDescriptorLimit(limitsText: string | undefined): number | undefined {
  const line = limitsText?.split("\n").find((row) => row.startsWith("Max open files"));
  const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
  if (soft === undefined || !/^\d+$/.test(soft)) return undefined;
  return Number(soft);
}

function readLimits(): string | undefined {
  try {
    return readFileSync("/proc/self/limits", "utf8");
  } catch {
    return undefined;
  }
}
