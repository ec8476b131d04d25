/**
 * Keeps the memory of collected frame buffers in the process instead of giving it back to the OS
 * and faulting it in again: once per process, before the first large frame is allocated, glibc's
 * malloc is shown one freed chunk of just under 32 MiB that it had mapped on its own.
 *
 * Why: `Buffer.allocUnsafeSlow` is `malloc`. glibc starts with a 128 KiB mmap threshold and a
 * 128 KiB trim threshold and adjusts both when a chunk it mapped on its own is freed (mmap
 * threshold = that chunk's size, trim threshold = twice that; "dynamic mmap threshold", at most
 * 32 MiB). With 1 MiB chunk bodies the thresholds settle at 1 MiB / 2 MiB, so each collection of
 * owned bodies (`fetchChunk`) frees more than 2 MiB at the top of the heap, glibc trims it, and the
 * next bodies fault the same memory in again page by page: 0.2 k to 190 k page faults per GiB from
 * run to run, up to a third of the client's CPU (docs/chunk-fetch-profile.md). After one freed
 * 32 MiB chunk the thresholds are 32 MiB / 64 MiB and the freed bodies' memory is reused (the same
 * as `GLIBC_TUNABLES=glibc.malloc.trim_threshold=...:glibc.malloc.mmap_threshold=...`, without
 * asking every application to set it). The cost: a process keeps up to 64 MiB of free heap, and
 * allocations under 32 MiB come from the heap rather than from mappings of their own.
 *
 * The chunk is never written, so it costs no resident memory (only address space until the next
 * collection frees it). Other allocators (musl, macOS, Windows) simply map and unmap it. Where
 * glibc's thresholds were set by hand (`GLIBC_TUNABLES`, `mallopt`) glibc no longer adjusts them,
 * and this changes nothing.
 *
 * @module
 */

import { Buffer } from "node:buffer";

/** glibc's largest dynamic mmap threshold on 64-bit (`DEFAULT_MMAP_THRESHOLD_MAX`). */
const DYNAMIC_THRESHOLD_MAX = 32 * 1024 * 1024;
/**
 * The chunk asked for: under the maximum by more than glibc's chunk header and page rounding, so
 * the mapped chunk is at most the maximum (a larger one leaves the thresholds alone).
 */
export const RAISING_CHUNK_BYTES = DYNAMIC_THRESHOLD_MAX - 64 * 1024;
/**
 * Frames at least this large trigger it: glibc's initial mmap threshold, where allocations start
 * being mapped (and unmapped, and faulted in) one by one.
 */
export const LARGE_FRAME_BYTES = 128 * 1024;

let raised = false;

/**
 * Allocates (with `allocate`, uninitialized) and drops one {@linkcode RAISING_CHUNK_BYTES} chunk,
 * the first time only; the garbage collector frees it. Returns whether it did so now.
 */
export function raiseMallocThresholds(
  allocate: (size: number) => unknown = Buffer.allocUnsafeSlow,
): boolean {
  if (raised) return false;
  raised = true;
  allocate(RAISING_CHUNK_BYTES);
  return true;
}
