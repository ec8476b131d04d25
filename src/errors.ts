/**
 * Ferry's error hierarchy. Every error Ferry raises is a {@linkcode TransportError} with a stable
 * string `code` that callers can switch on, and the underlying `cause` where there is one.
 * Messages say what was attempted, why it failed and the value received.
 *
 * This file holds the base class and the errors every layer raises; a layer's own errors live in
 * one file of that layer (`src/pool/pool-errors.ts`, `src/responder/stream-errors.ts`,
 * `src/rpc/rpc-errors.ts`, `src/files/file-errors.ts`, `src/gateway/close-codes.ts`, …), and all
 * are exported from a public entry (`src/mod.ts` or its part's subpath, e.g. `src/pool/mod.ts`).
 * An error that ends a WebSocket with a particular close code carries it as a numeric `closeCode`
 * property, set where the error is created (see `src/websocket/close-codes.ts`); nothing derives a
 * code from message text.
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

/**
 * Base class of every error Ferry raises.
 *
 * @example
 * ```ts
 * import { TransportError } from "ferry-transport";
 *
 * function describe(error: unknown): string {
 *   return error instanceof TransportError ? `${error.code}: ${error.message}` : String(error);
 * }
 * console.log(describe(new TransportError("no route to the peer"))); // ERR_TRANSPORT: no route…
 * ```
 */
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

/**
 * An operation did not finish before its deadline.
 *
 * @example
 * ```ts
 * import { TimeoutError, type TransportClient } from "ferry-transport";
 *
 * declare const client: TransportClient;
 * try {
 *   await client.sendRpc(new TextEncoder().encode("ping"), { timeoutMs: 1_000 });
 * } catch (error) {
 *   if (!(error instanceof TimeoutError)) throw error;
 *   console.log(`no reply within ${error.timeoutMs} ms`);
 * }
 * ```
 */
export class TimeoutError extends TransportError {
  /** The deadline that passed, in milliseconds. */
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number, options: { cause?: unknown } = {}) {
    super(message, { code: "ERR_TIMEOUT", cause: options.cause });
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The connection closed (or was never open) while an operation needed it.
 *
 * @example
 * ```ts
 * import { ConnectionClosedError, type TransportClient } from "ferry-transport";
 *
 * declare const client: TransportClient;
 * try {
 *   await client.fetchChunk(7n, 0, { timeoutMs: 5_000 });
 * } catch (error) {
 *   if (!(error instanceof ConnectionClosedError)) throw error;
 *   console.log("the connection went away; lease another one and retry");
 * }
 * ```
 */
export class ConnectionClosedError extends TransportError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "ERR_CONNECTION_CLOSED", cause: options.cause });
  }
}

/**
 * Opening a connection failed (refused, unreachable, timed out while connecting).
 *
 * @example
 * ```ts
 * import { ConnectError, TransportClient } from "ferry-transport";
 * import { tcpConnect } from "ferry-transport/node";
 *
 * try {
 *   const client = await TransportClient.connect(
 *     tcpConnect({ host: "127.0.0.1", port: 7337 }),
 *     { timeoutMs: 2_000 },
 *   );
 *   await client.close();
 * } catch (error) {
 *   if (!(error instanceof ConnectError)) throw error;
 *   console.log("no server at 127.0.0.1:7337:", error.message);
 * }
 * ```
 */
export class ConnectError extends TransportError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "ERR_CONNECT", cause: options.cause });
  }
}

/**
 * The peer sent bytes that break the wire protocol. The connection is closed.
 *
 * @example
 * ```ts
 * import { ProtocolError, type TransportClient } from "ferry-transport";
 *
 * declare const client: TransportClient;
 * try {
 *   await client.sendRpc(new Uint8Array([1, 2, 3]));
 * } catch (error) {
 *   // The peer sent bytes that are not Spark's wire format: this connection is closed.
 *   if (error instanceof ProtocolError) console.log("not a Spark/Ferry peer:", error.message);
 *   else throw error;
 * }
 * ```
 */
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
 *
 * @example
 * ```ts
 * import { RemoteError, type TransportClient } from "ferry-transport";
 *
 * declare const client: TransportClient;
 * try {
 *   await client.sendRpc(new TextEncoder().encode("open missing-file"));
 * } catch (error) {
 *   if (!(error instanceof RemoteError)) throw error;
 *   // The peer's own text (for Spark: a Java stack trace); the connection stays usable.
 *   console.log(error.remoteCode ?? "no code", error.remoteMessage.slice(0, 200));
 * }
 * ```
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

/**
 * A configured limit was reached (frame size, in-flight requests, buffered bytes, ...).
 *
 * @example
 * ```ts
 * import { LimitError, TransportClient } from "ferry-transport";
 * import { tcpConnect } from "ferry-transport/node";
 *
 * const client = await TransportClient.connect(tcpConnect({ host: "127.0.0.1", port: 7337 }), {
 *   maxReplyFrameLength: 16 * 1024 * 1024,
 * });
 * try {
 *   await client.fetchChunk(7n, 0);
 * } catch (error) {
 *   // Only this request fails (its reply was larger than 16 MiB); the connection keeps serving.
 *   if (error instanceof LimitError) console.log(error.message);
 *   else throw error;
 * }
 * await client.close();
 * ```
 */
export class LimitError extends TransportError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "ERR_LIMIT", cause: options.cause });
  }
}

/**
 * A caller passed a value Ferry cannot use.
 *
 * @example
 * ```ts
 * import { InvalidArgumentError, TransferBudget } from "ferry-transport";
 *
 * try {
 *   new TransferBudget(0); // a budget must allow at least one transfer
 * } catch (error) {
 *   console.log(error instanceof InvalidArgumentError); // true: the message names the value
 * }
 * ```
 */
export class InvalidArgumentError extends TransportError {
  constructor(message: string) {
    super(message, { code: "ERR_INVALID_ARGUMENT" });
  }
}

/**
 * Authentication failed or was required and not performed.
 *
 * @example
 * ```ts
 * import { AuthError, TransportError } from "ferry-transport";
 *
 * function shouldRetry(error: unknown): boolean {
 *   // A wrong secret stays wrong: do not retry authentication failures.
 *   return error instanceof TransportError && !(error instanceof AuthError);
 * }
 * console.log(shouldRetry(new AuthError("the server refused principal app-1"))); // false
 * ```
 */
export class AuthError extends TransportError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "ERR_AUTH", cause: options.cause });
  }
}

/**
 * A payload could not be encoded or decoded (typed services: a value msgpack cannot carry, bytes
 * that are not a well-formed request or reply, a field of the wrong type).
 *
 * @example
 * ```ts
 * import { PayloadError } from "ferry-transport";
 *
 * const error = new PayloadError("Cannot encode the params of notes.get: a function");
 * console.log(error.code); // "ERR_PAYLOAD"
 * ```
 */
export class PayloadError extends TransportError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "ERR_PAYLOAD", cause: options.cause });
  }
}

/**
 * Short, safe rendering of an unknown thrown value for error messages.
 *
 * @example
 * ```ts
 * import { describeError } from "ferry-transport";
 *
 * console.log(describeError(new Error("disk gone"))); // "disk gone"
 * console.log(describeError("plain text")); // "plain text"
 * console.log(describeError(42)); // "42"
 * ```
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === "string") return error;
  try {
    return String(error);
  } catch {
    return "unknown error";
  }
}
