/**
 * The envelope of a typed-service call, inside ordinary RpcRequest / RpcResponse bodies (so the
 * wire stays Spark's):
 *
 * ```
 * request  = F6 66 72 70 63 01  ·  msgpack [service: str, method: str, params: any, trace?]
 *            "\xF6frpc" + version 1
 * trace    = { traceparent: str }   (W3C trace context; only sent while a trace is active)
 * success  = msgpack [0, result: any]
 * failure  = msgpack [1, code: str, message: str]
 * ```
 *
 * The 6-byte prefix lets a service router share a connection with other handlers: a body without
 * it is not a service call (see `ServiceRouter`'s `fallback`). 0xF6 is never the first byte of a
 * body Spark sends, nor of Ferry's control messages (0xF5). Replies need no prefix: they are
 * matched to their request by the RPC's request id. A failure's `code` is the service's own
 * (`RpcErrorCode` for the router's, whatever a `ServiceError` carried for an implementation's).
 *
 * The optional fourth element carries the caller's trace context (see
 * `src/observability/tracing.ts`). Without an active trace a request is the three-element array
 * it always was, byte for byte; a malformed trace element is ignored, never a failure. A router
 * older than this element refuses four-element requests, so traced calls need peers that know it.
 *
 * @module
 */

import { PayloadError } from "../errors.ts";
import { decodePayload, encodePayload } from "./rpc-codec.ts";
import { excerpt, quoteExcerpt } from "../excerpt.ts";
import { DEFAULT_SERVICE_DECODE_LIMITS, type ServiceDecodeLimits } from "./msgpack-scanner.ts";

/** The bytes every service request starts with. */
export const SERVICE_REQUEST_MAGIC: Uint8Array = Uint8Array.of(0xf6, 0x66, 0x72, 0x70, 0x63, 0x01);

const MAGIC_LENGTH = SERVICE_REQUEST_MAGIC.byteLength;

/** A decoded service request. */
export interface ServiceRequest {
  readonly service: string;
  readonly method: string;
  readonly params: unknown;
  /** The caller's W3C `traceparent`, unvalidated (a string of at most 128 characters). */
  readonly traceparent?: string;
}

/** A decoded reply: the result, or the failure the service sent. */
export type ServiceReply =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** Whether `body` is a service request (starts with {@linkcode SERVICE_REQUEST_MAGIC}). */
export function isServiceRequest(body: Uint8Array): boolean {
  if (body.byteLength < MAGIC_LENGTH) return false;
  for (let i = 0; i < MAGIC_LENGTH; i++) {
    if (body[i] !== SERVICE_REQUEST_MAGIC[i]) return false;
  }
  return true;
}

/**
 * Encodes a request body. @throws PayloadError when `params` cannot be encoded.
 *
 * @example
 * ```ts
 * import { decodeServiceRequest, encodeServiceRequest } from "ferry-transport/rpc";
 *
 * // The bytes of an RpcRequest body, for a peer written without serviceClient.
 * const body = encodeServiceRequest("example.notes", "get", { id: 1n });
 * console.log(decodeServiceRequest(body)); // { service: "example.notes", method: "get", … }
 * ```
 */
export function encodeServiceRequest(
  service: string,
  method: string,
  params: unknown,
  traceparent?: string,
): Uint8Array {
  const payload = encodePayload(
    traceparent === undefined
      ? [service, method, params]
      : [service, method, params, { traceparent }],
    `the parameters of ${service}.${method}`,
  );
  const body = new Uint8Array(MAGIC_LENGTH + payload.byteLength);
  body.set(SERVICE_REQUEST_MAGIC, 0);
  body.set(payload, MAGIC_LENGTH);
  return body;
}

/**
 * Decodes a request body whose values are within `limits`.
 * @throws LimitError naming the limit a value exceeds; PayloadError for anything but a
 * well-formed request.
 *
 * @example
 * ```ts
 * import { decodeServiceRequest, encodeServiceRequest } from "ferry-transport/rpc";
 *
 * const request = decodeServiceRequest(encodeServiceRequest("example.notes", "get", { id: 1n }));
 * console.log(request.service, request.method, request.params);
 * ```
 */
export function decodeServiceRequest(
  body: Uint8Array,
  limits: ServiceDecodeLimits = DEFAULT_SERVICE_DECODE_LIMITS,
): ServiceRequest {
  if (!isServiceRequest(body)) {
    throw new PayloadError(
      `Cannot decode a service request: the body (${body.byteLength} bytes) does not start with ` +
        `the service request prefix`,
    );
  }
  const value = decodePayload(body.subarray(MAGIC_LENGTH), "a service request", limits);
  if (
    !Array.isArray(value) || (value.length !== 3 && value.length !== 4) ||
    typeof value[0] !== "string" || typeof value[1] !== "string"
  ) {
    throw new PayloadError(
      `Cannot decode a service request: expected [service, method, params, trace?], got ${
        describeShape(value)
      }`,
    );
  }
  const traceparent = (value[3] as { traceparent?: unknown } | null | undefined)?.traceparent;
  return typeof traceparent === "string" && traceparent.length <= 128
    ? { service: value[0], method: value[1], params: value[2], traceparent }
    : { service: value[0], method: value[1], params: value[2] };
}

/**
 * Encodes a success reply. @throws PayloadError when `value` cannot be encoded.
 *
 * @example
 * ```ts
 * import { decodeServiceReply, encodeServiceSuccess } from "ferry-transport/rpc";
 *
 * const body = encodeServiceSuccess({ text: "first" }, "notes.get");
 * const reply = decodeServiceReply(body, "notes.get");
 * console.log(reply.ok && reply.value); // { text: "first" }
 * ```
 */
export function encodeServiceSuccess(value: unknown, what: string): Uint8Array {
  return encodePayload([0, value], what);
}

/**
 * Encodes a failure reply (never throws: code and message are strings).
 *
 * @example
 * ```ts
 * import { decodeServiceReply, encodeServiceFailure } from "ferry-transport/rpc";
 *
 * const reply = decodeServiceReply(encodeServiceFailure("E_NO_NOTE", "no note 7"), "notes.get");
 * if (!reply.ok) console.log(reply.code, reply.message); // "E_NO_NOTE" "no note 7"
 * ```
 */
export function encodeServiceFailure(code: string, message: string): Uint8Array {
  return encodePayload([1, String(code), String(message)], "a service failure");
}

/** How a version-00 `traceparent` element ends a request: `{ traceparent: <55 chars> }`. */
const TRACE_TAIL_HEAD = encodePayload({ traceparent: "0".repeat(55) }, "a trace element")
  .subarray(0, -55);
const TRACE_TAIL_LENGTH = TRACE_TAIL_HEAD.byteLength + 55;

/**
 * The `traceparent` a service request carries as its last element, read without decoding the
 * request (for a proxy such as the gateway), or undefined when it carries none of version 00.
 */
export function traceparentOf(body: Uint8Array): string | undefined {
  // 0x94: a four-element array. Three elements whose params merely end like a trace element
  // (params `{ traceparent: … }`) are the caller's data, never read or rewritten.
  if (
    !isServiceRequest(body) || body.byteLength < MAGIC_LENGTH + 1 + TRACE_TAIL_LENGTH ||
    body[MAGIC_LENGTH] !== 0x94
  ) {
    return undefined;
  }
  const start = body.byteLength - TRACE_TAIL_LENGTH;
  for (let i = 0; i < TRACE_TAIL_HEAD.byteLength; i++) {
    if (body[start + i] !== TRACE_TAIL_HEAD[i]) return undefined;
  }
  // Only ASCII is valid in a traceparent; anything else is left alone.
  let text = "";
  for (let i = body.byteLength - 55; i < body.byteLength; i++) {
    const byte = body[i]!;
    if (byte > 0x7e || byte < 0x20) return undefined;
    text += String.fromCharCode(byte);
  }
  return text;
}

/**
 * A copy of `body` (a request {@linkcode traceparentOf} read a `traceparent` from) carrying
 * `traceparent` instead: same length, nothing else changed. A proxy uses it to make its own span
 * the parent of the next hop.
 */
export function withTraceparent(body: Uint8Array, traceparent: string): Uint8Array {
  if (traceparent.length !== 55 || traceparentOf(body) === undefined) {
    throw new PayloadError(`Cannot replace the traceparent of a request that carries none`);
  }
  const copy = body.slice();
  for (let i = 0; i < 55; i++) copy[body.byteLength - 55 + i] = traceparent.charCodeAt(i);
  return copy;
}

/** Whether `body` is a failure reply (msgpack `[1, …]` with three elements), without decoding it. */
export function isServiceFailureReply(body: Uint8Array): boolean {
  return body.byteLength >= 2 && body[0] === 0x93 && body[1] === 0x01;
}

/**
 * Decodes a reply body whose values are within `limits`.
 * @throws LimitError naming the limit a value exceeds; PayloadError for anything but a
 * well-formed reply.
 *
 * @example
 * ```ts
 * import { decodeServiceReply, encodeServiceSuccess } from "ferry-transport/rpc";
 *
 * const reply = decodeServiceReply(encodeServiceSuccess(42, "answer"), "answer");
 * console.log(reply.ok ? reply.value : `${reply.code}: ${reply.message}`); // 42
 * ```
 */
export function decodeServiceReply(
  body: Uint8Array,
  what: string,
  limits: ServiceDecodeLimits = DEFAULT_SERVICE_DECODE_LIMITS,
): ServiceReply {
  const value = decodePayload(body, `the reply to ${what}`, limits);
  if (Array.isArray(value)) {
    if (value.length === 2 && value[0] === 0) return { ok: true, value: value[1] };
    if (
      value.length === 3 && value[0] === 1 && typeof value[1] === "string" &&
      typeof value[2] === "string"
    ) {
      return { ok: false, code: value[1], message: value[2] };
    }
  }
  throw new PayloadError(
    `Cannot decode the reply to ${what}: expected [0, result] or [1, code, message], got ${
      describeShape(value)
    }`,
  );
}

/**
 * A short description of a decoded value's shape, for error messages: peer input, so bounded —
 * at most four items of the outer array, nested containers by their size only, strings and keys
 * cut to excerpts.
 */
export function describeShape(value: unknown, nested = false): string {
  if (value === null) return "null";
  if (Array.isArray(value)) {
    if (nested) return `an array of ${value.length}`;
    const items = value.slice(0, 4).map((item) => describeShape(item, true)).join(", ");
    return `an array of ${value.length} [${items}${value.length > 4 ? ", …" : ""}]`;
  }
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  if (typeof value === "string") return `the string ${quoteExcerpt(value, 40)}`;
  if (typeof value === "object") {
    const keys = Object.keys(value);
    if (nested) return `an object with ${keys.length} keys`;
    const shown = keys.slice(0, 4).map((key) => quoteExcerpt(key, 20)).join(", ");
    return `an object with ${keys.length} keys [${shown}${keys.length > 4 ? ", …" : ""}]`;
  }
  return `${typeof value} ${excerpt(String(value), 40)}`;
}
