/**
 * Every limit and deadline Ferry applies by default, in one place. Each can be overridden where the
 * object that applies it is created (decoder, client, server, pool, gateway); the README documents
 * them. Defaults aim at what a production service can live with.
 *
 * @module
 */

const KiB = 1024;
const MiB = 1024 * KiB;

export const defaultLimits = {
  /** Largest frame accepted by the decoder (frame length, header included). */
  maxFrameLength: 64 * MiB,
  /** Requests (RPC, chunk fetch, stream, upload) one client keeps in flight at once. */
  maxInFlightRequests: 65_536,
  /** Adapter write buffer above which `write()` returns false (backpressure). */
  writeHighWaterMark: 1 * MiB,
  /** Queued outbound bytes on one connection above which it is closed as a slow consumer. */
  writeHardCap: 256 * MiB,
  /** Chunks a server is transferring at once (all connections) before it sheds load. */
  maxChunksBeingTransferred: 10_000,
  /** Default deadline for connecting. */
  connectTimeoutMs: 30_000,
  /** Default deadline for a request (0 = none; Spark's clients rely on the connection timeout). */
  requestTimeoutMs: 0,
  /** Requests outstanding and nothing received for this long: close the connection as dead. */
  connectionTimeoutMs: 120_000,
  /** Deadline for an authentication handshake. */
  authTimeoutMs: 10_000,
  /** A connection with nothing in flight closes after this long idle (0 = never). */
  idleTimeoutMs: 0,
} as const;

export type Limits = typeof defaultLimits;
