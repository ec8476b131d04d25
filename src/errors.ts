/**
 * Ferry's error hierarchy. Every error Ferry raises is a {@linkcode TransportError} with a stable
 * string `code` that callers can switch on, and the underlying `cause` where there is one.
 * Messages say what was attempted, why it failed and the value received.
 *
 * This file holds the base class and the errors every layer raises; a layer's own errors live in
 * one file of that layer (`src/pool/pool-errors.ts`, `src/responder/stream-errors.ts`,
 * `src/rpc/rpc-errors.ts`, `src/files/file-errors.ts`, `src/gateway/close-codes.ts`, …), and all
 * are exported from the package index, `src/mod.ts`. An error that ends a WebSocket with a
 * particular close code carries it as a numeric `closeCode` property, set where the error is
 * created (see `src/websocket/close-codes.ts`); nothing derives a code from message text.
 *
 * @module
 */

/** Stable error codes. New codes may be added; existing ones never change meaning. */
export type TransportErrorCode =
  | "ERR_TRANSPORT"
  | "ERR_TIMEOUT"
  | "ERR_CONNECTION_CLOSED"
  | "ERR_CONNECT"
  | "ERR_PROTOCOL"
  | "ERR_REMOTE"
  | "ERR_POOL_TIMEOUT"
  | "ERR_POOL_CLOSED"
  | "ERR_INVALID_ARGUMENT"
  | "ERR_LIMIT"
  | "ERR_AUTH"
  | "ERR_PAYLOAD"
  | "ERR_SERVICE";

/** Base class of every error Ferry raises. */
export class TransportError extends Error {
  /** Stable machine-readable code. */
  readonly code: TransportErrorCode;

  constructor(message: string, options: { code?: TransportErrorCode; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? "ERR_TRANSPORT";
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** An operation did not finish before its deadline. */
export class TimeoutError extends TransportError {
  /** The deadline that passed, in milliseconds. */
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number, options: { cause?: unknown } = {}) {
    super(message, { code: "ERR_TIMEOUT", cause: options.cause });
    this.timeoutMs = timeoutMs;
  }
}

/** The connection closed (or was never open) while an operation needed it. */
export class ConnectionClosedError extends TransportError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "ERR_CONNECTION_CLOSED", cause: options.cause });
  }
}

/** Opening a connection failed (refused, unreachable, timed out while connecting). */
export class ConnectError extends TransportError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "ERR_CONNECT", cause: options.cause });
  }
}

/** The peer sent bytes that break the wire protocol. The connection is closed. */
export class ProtocolError extends TransportError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "ERR_PROTOCOL", cause: options.cause });
  }
}

/**
 * The peer answered with a failure (RpcFailure, ChunkFetchFailure, StreamFailure). `remoteMessage`
 * is the peer's error string verbatim (for Spark peers, a Java stack trace). `remoteCode` is the
 * peer's own error code where the protocol carries one (typed services, `src/rpc/`), else
 * undefined.
 */
export class RemoteError extends TransportError {
  readonly remoteMessage: string;
  readonly remoteCode: string | undefined;
  constructor(message: string, remoteMessage: string, options: { remoteCode?: string } = {}) {
    super(message, { code: "ERR_REMOTE" });
    this.remoteMessage = remoteMessage;
    this.remoteCode = options.remoteCode;
  }
}

/** A configured limit was reached (frame size, in-flight requests, buffered bytes, ...). */
export class LimitError extends TransportError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "ERR_LIMIT", cause: options.cause });
  }
}

/** A caller passed a value Ferry cannot use. */
export class InvalidArgumentError extends TransportError {
  constructor(message: string) {
    super(message, { code: "ERR_INVALID_ARGUMENT" });
  }
}

/** Authentication failed or was required and not performed. */
export class AuthError extends TransportError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "ERR_AUTH", cause: options.cause });
  }
}

/**
 * A payload could not be encoded or decoded (typed services: a value msgpack cannot carry, bytes
 * that are not a well-formed request or reply, a field of the wrong type).
 */
export class PayloadError extends TransportError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "ERR_PAYLOAD", cause: options.cause });
  }
}

/** Short, safe rendering of an unknown thrown value for error messages. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === "string") return error;
  try {
    return String(error);
  } catch {
    return "unknown error";
  }
}
