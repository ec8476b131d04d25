/**
 * How queued outbound entries become socket writes: a run of small chunks is copied into one
 * buffer and written once; a chunk of {@linkcode GATHER_CHUNK_MAX} bytes or more is written as it
 * is (no copy); a written-callback runs once every byte queued before it has been handed to the
 * socket. Order is always preserved.
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
 * (checked before each write, so a full socket stops the loop). Returns the index of the first
 * entry not handled. The callbacks take their `target` as an argument, so a writer passes shared
 * functions instead of closures of its own.
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
  while (index < count && writable(target)) {
    const entry = entries[index]!;
    if (typeof entry === "function") {
      index++;
      entry();
      continue;
    }
    if (entry.byteLength >= GATHER_CHUNK_MAX) {
      index++;
      write(target, entry);
      continue;
    }
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
