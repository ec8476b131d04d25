/**
 * How queued outbound entries become socket writes: a run of small chunks is copied into one
 * buffer and written once; a chunk of {@linkcode GATHER_CHUNK_MAX} bytes or more is written as it
 * is (no copy); a written-callback runs once every byte queued before it has been handed to the
 * socket. Order is always preserved.
 *
 * Writes stop when the socket is full, but never between a large chunk and the run of small ones
 * right behind it (at most one gather buffer): that run goes in the same turn, so the next write
 * starts with a large chunk rather than with the header of its frame. Why: Linux TCP copies a
 * write into its page fragment from the fragment's start when the peer has read everything before
 * it, so a body starting 21 bytes into a write lands 21 bytes off its source's alignment; a body
 * at page offset 16 (the usual place of a large malloc'd buffer) is then 5 bytes ahead of its
 * source modulo 4 096, where the kernel's `rep movsb` runs an order of magnitude slower on AMD
 * Zen (docs/chunk-fetch-profile.md, "Where a body lands in the kernel").
 *
 * @module
 */

/** Runs once its frame has been handed to the socket, or dropped because the writer closed. */
export type WrittenCallback = () => void;

/** What a writer queues for the socket: bytes, and callbacks in between. */
export type OutboundEntry = Uint8Array | WrittenCallback;

/** Chunks below this size are copied into a gather buffer; larger ones are written as they are. */
export const GATHER_CHUNK_MAX = 32 * 1024;
/** Largest gather buffer; a longer run of small chunks becomes several writes of this size. */
const GATHER_BUFFER_MAX = 256 * 1024;

/**
 * Writes `entries[0, count)` through `write(target, chunk)` while `writable(target)` holds
 * (checked before each write, so a full socket stops the loop; after a large chunk, once the
 * small run behind it is written). Returns the index of the first entry not handled. The
 * callbacks take their `target` as an argument, so a writer passes shared functions instead of
 * closures of its own.
 */
export function writeGathered<Target>(
  entries: readonly OutboundEntry[],
  count: number,
  target: Target,
  write: (target: Target, chunk: Uint8Array) => void,
  writable: (target: Target) => boolean,
): number {
  let index = 0;
  let callbacks: WrittenCallback[] | undefined;
  /** The last chunk written was large: the small run behind it goes even to a full socket. */
  let afterLarge = false;
  while (index < count) {
    const entry = entries[index]!;
    const large = typeof entry !== "function" && entry.byteLength >= GATHER_CHUNK_MAX;
    if (!(afterLarge && !large) && !writable(target)) break;
    if (typeof entry === "function") {
      index++;
      entry();
      continue;
    }
    if (large) {
      index++;
      write(target, entry);
      afterLarge = true;
      continue;
    }
    afterLarge = false;
    // A run of small chunks (and the callbacks of the frames they end) becomes one write.
    let end = index;
    let bytes = 0;
    let chunks = 0;
    while (end < count) {
      const next = entries[end]!;
      if (typeof next === "function") {
        (callbacks ??= []).push(next);
        end++;
        continue;
      }
      if (next.byteLength >= GATHER_CHUNK_MAX) break;
      if (chunks > 0 && bytes + next.byteLength > GATHER_BUFFER_MAX) break;
      bytes += next.byteLength;
      chunks++;
      end++;
    }
    if (chunks === 1) {
      write(target, entry);
    } else {
      const gathered = new Uint8Array(bytes);
      let offset = 0;
      for (let at = index; at < end; at++) {
        const chunk = entries[at]!;
        if (typeof chunk === "function") continue;
        gathered.set(chunk, offset);
        offset += chunk.byteLength;
      }
      write(target, gathered);
    }
    index = end;
    if (callbacks !== undefined) {
      for (const callback of callbacks) callback();
      callbacks = undefined;
    }
  }
  return index;
}
