/**
 * A `SocketSink` that records what a socket delivers, checks the contract's ordering rules as it
 * goes (never empty chunks, nothing after `close`, `close` once) and lets a test await progress.
 *
 * @module
 */

import type { Socket, SocketSink } from "../../src/socket.ts";

/**
 * The deterministic test stream repeats a pseudo-random table whose length is a prime, so a lost,
 * duplicated or reordered piece of any size below a megabyte shows up as a mismatch. Generating
 * and checking it are table lookups (fast enough for 64 MiB transfers).
 */
const PERIOD = 1_000_003;
const TABLE = (() => {
  const table = new Uint8Array(PERIOD);
  let state = 0x2545f491;
  for (let i = 0; i < PERIOD; i++) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    table[i] = state >>> 24;
  }
  return table;
})();

/** Byte `i` of the deterministic test stream. */
export function patternByte(i: number): number {
  return TABLE[i % PERIOD]!;
}

/** `length` bytes of the test stream starting at `offset`. */
export function patternChunk(offset: number, length: number): Uint8Array {
  const chunk = new Uint8Array(length);
  let at = 0;
  let from = offset % PERIOD;
  while (at < length) {
    const n = Math.min(length - at, PERIOD - from);
    chunk.set(TABLE.subarray(from, from + n), at);
    at += n;
    from = 0;
  }
  return chunk;
}

/** Offset of the first byte of `chunk` that differs from the stream at `offset`, or -1. */
export function patternMismatch(chunk: Uint8Array, offset: number): number {
  const length = chunk.length;
  let at = 0;
  let from = offset % PERIOD;
  while (at < length) {
    const n = Math.min(length - at, PERIOD - from);
    for (let i = 0; i < n; i++) {
      if (chunk[at + i] !== TABLE[from + i]) return offset + at + i;
    }
    at += n;
    from = 0;
  }
  return -1;
}

export interface RecorderOptions {
  /** Keep every received chunk (for small transfers); otherwise only count and check. */
  readonly keep?: boolean;
  /** Check each byte against {@linkcode patternByte} as it arrives. */
  readonly checkPattern?: boolean;
  /** Called after each chunk is recorded. */
  readonly onData?: (chunk: Uint8Array) => void;
}

export class SinkRecorder implements SocketSink {
  received = 0;
  dataEvents = 0;
  drains = 0;
  readonly chunks: Uint8Array[] = [];
  /** Contract violations seen (empty chunk, event after close, close twice). */
  readonly violations: string[] = [];
  /** First offset whose byte did not match the pattern, or -1. */
  firstMismatch = -1;
  closeCalled = false;
  closeError: unknown;
  readonly closedBySink: Promise<unknown>;

  readonly #options: RecorderOptions;
  #resolveClose!: (error: unknown) => void;
  #byteWaiters: { bytes: number; resolve: () => void }[] = [];
  #drainWaiters: (() => void)[] = [];

  constructor(options: RecorderOptions = {}) {
    this.#options = options;
    this.closedBySink = new Promise((resolve) => (this.#resolveClose = resolve));
  }

  data(chunk: Uint8Array): void {
    if (this.closeCalled) this.violations.push(`data(${chunk.byteLength}) after close`);
    if (chunk.byteLength === 0) this.violations.push("empty data chunk");
    if (this.#options.checkPattern && this.firstMismatch < 0) {
      this.firstMismatch = patternMismatch(chunk, this.received);
    }
    this.received += chunk.byteLength;
    this.dataEvents++;
    if (this.#options.keep) this.chunks.push(chunk);
    this.#options.onData?.(chunk);
    this.#byteWaiters = this.#byteWaiters.filter((w) => {
      if (this.received < w.bytes) return true;
      w.resolve();
      return false;
    });
  }

  drain(): void {
    if (this.closeCalled) this.violations.push("drain after close");
    this.drains++;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  close(error: unknown): void {
    if (this.closeCalled) this.violations.push("close called twice");
    this.closeCalled = true;
    this.closeError = error;
    this.#resolveClose(error);
    for (const w of this.#byteWaiters) w.resolve();
    for (const resolve of this.#drainWaiters) resolve();
    this.#byteWaiters = [];
    this.#drainWaiters = [];
  }

  /** Resolves once `bytes` have arrived in total (or the socket closed). */
  waitForBytes(bytes: number): Promise<void> {
    if (this.received >= bytes || this.closeCalled) return Promise.resolve();
    return new Promise((resolve) => this.#byteWaiters.push({ bytes, resolve }));
  }

  /** Resolves at the next `drain` (or close). */
  nextDrain(): Promise<void> {
    if (this.closeCalled) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Everything kept, concatenated. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.byteLength, 0));
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }
}

/**
 * Writes `total` pattern bytes in `chunkSize` pieces, honouring backpressure: stops when `write`
 * returns false and waits for `drain`. Returns how often `write` said stop.
 */
export async function writePattern(
  socket: Socket,
  sink: SinkRecorder,
  total: number,
  chunkSize: number,
): Promise<{ refusals: number }> {
  let refusals = 0;
  for (let offset = 0; offset < total;) {
    const length = Math.min(chunkSize, total - offset);
    const accepted = socket.write(patternChunk(offset, length));
    offset += length;
    if (!accepted && offset < total) {
      refusals++;
      await sink.nextDrain();
      if (sink.closeCalled) throw new Error(`socket closed after ${offset} bytes written`);
    }
  }
  return { refusals };
}

/** Lets the event loop run `turns` full turns (timers phase included). */
export async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise<void>((resolve) => setTimeout(resolve, 0));
}
