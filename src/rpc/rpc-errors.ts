/**
 * Failures of typed services. On the server, an implementation throws {@linkcode ServiceError} to
 * send a code of its choosing; the router sends {@linkcode RpcErrorCode} codes for what it refuses
 * itself. On the client every failure reply becomes a `RemoteError` whose `remoteCode` and
 * `remoteMessage` are the code and message sent.
 *
 * @module
 */

import { InvalidArgumentError, TransportError } from "../errors.ts";

/**
 * Codes the service router itself replies with.
 *
 * @example
 * ```ts
 * import { RemoteError } from "ferry-transport";
 * import { RpcErrorCode } from "ferry-transport/rpc";
 *
 * function isUnknownMethod(error: unknown): boolean {
 *   return error instanceof RemoteError && error.remoteCode === RpcErrorCode.UnknownMethod;
 * }
 * console.log(isUnknownMethod(new Error("other"))); // false
 * ```
 */
export const RpcErrorCode = {
  /** No service of that name is served on this connection. */
  UnknownService: "ERR_RPC_UNKNOWN_SERVICE",
  /** The service has no method of that name. */
  UnknownMethod: "ERR_RPC_UNKNOWN_METHOD",
  /** The request could not be decoded, or its parameters failed the method's check. */
  BadRequest: "ERR_RPC_BAD_REQUEST",
  /**
   * The request is over one of the router's limits (`maxServiceRequestBytes`, the decode limits
   * of `src/limits.ts`); the message names it. Nothing of the request was decoded past the limit.
   */
  Limit: "ERR_RPC_LIMIT",
  /** The implementation's result could not be encoded. */
  BadResult: "ERR_RPC_BAD_RESULT",
  /** The implementation threw something other than a `ServiceError`. */
  Internal: "ERR_RPC_INTERNAL",
} as const;

export type RpcErrorCode = (typeof RpcErrorCode)[keyof typeof RpcErrorCode];

/**
 * Thrown by a service implementation to fail a call with `serviceCode` and `message`; the caller
 * gets a `RemoteError` with `remoteCode === serviceCode` and `remoteMessage === message`. Like
 * every Ferry error it is a `TransportError`: its `code` is `ERR_SERVICE`; the code of the
 * implementation's choosing is `serviceCode`.
 *
 * @example
 * ```ts
 * import { ServiceError } from "ferry-transport/rpc";
 *
 * // Thrown by an implementation: the caller gets a RemoteError with remoteCode "E_NO_NOTE".
 * const error = new ServiceError("E_NO_NOTE", "no note 7");
 * console.log(error.code, error.serviceCode); // "ERR_SERVICE" "E_NO_NOTE"
 * ```
 */
export class ServiceError extends TransportError {
  /** The implementation's own code, sent to the caller as `RemoteError.remoteCode`. */
  readonly serviceCode: string;
  constructor(serviceCode: string, message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "ERR_SERVICE", cause: options.cause });
    if (typeof serviceCode !== "string" || serviceCode.length === 0) {
      throw new InvalidArgumentError(
        `ServiceError: code must be a non-empty string, got ${String(serviceCode)}`,
      );
    }
    this.serviceCode = serviceCode;
  }
}

/**
 * A {@linkcode ServiceError} for a refusal a peer can cause by the thousand (a request over a cap,
 * e.g. a file-service `open` at `maxStreams`), built without capturing a stack trace: the trace
 * says nothing about the peer's request, and capturing it was most of what refusing 20 000 opens
 * cost. Where the runtime has no `Error.stackTraceLimit`, this is a plain `ServiceError`.
 */
export function serviceRefusal(code: string, message: string): ServiceError {
  const errorClass = Error as { stackTraceLimit?: number };
  const limit = errorClass.stackTraceLimit;
  if (typeof limit !== "number") return new ServiceError(code, message);
  errorClass.stackTraceLimit = 0;
  try {
    return new ServiceError(code, message);
  } finally {
    errorClass.stackTraceLimit = limit;
  }
}
