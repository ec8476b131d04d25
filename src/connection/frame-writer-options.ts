/**
 * What a `FrameWriter` (frame-writer.ts) needs from its connection, and the counters it reports
 * back.
 *
 * @module
 */

/** The connection's side of its `FrameWriter` (frame-writer.ts). */
export interface FrameWriterOptions {
  /** Queued bytes (here and in the socket) above which the connection is a slow consumer. */
  readonly writeHardCap: number;
  /** The peer's address, for error messages. */
  readonly peer: string;
  /** The writer cannot go on (hard cap, broken body): close the connection with `error`. */
  readonly onFatal: (error: unknown) => void;
  /** The socket went above its high-water mark (writes are held until it drains). */
  readonly onBlocked?: () => void;
  /** The time `blockedSince` is read on (the connection's clock; default `performance.now()`). */
  readonly now?: () => number;
}

/** Counters a connection reports in its stats. */
export interface WriterStats {
  readonly bytesWritten: number;
  readonly socketWrites: number;
}
