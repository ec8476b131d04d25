/**
 * `ServiceRouter`: serves typed services as an `RpcHandler`, so it plugs into `TransportServer`
 * (or a client that serves its peer) like any handler:
 *
 * ```ts
 * const router = new ServiceRouter({ fallback: otherHandler })
 *   .serve(greeter, { hello: ({ name }) => `hello ${name}`, stats: () => ({ calls: 1n }) });
 * const server = new TransportServer({ rpcHandler: router });
 * ```
 *
 * Bodies that start with the service request prefix are decoded, routed by service and method
 * name, checked (the method's `params` check), and answered with a success or failure reply (see
 * `rpc-envelope.ts`) — a failing call is an ordinary RpcResponse carrying a code, not an
 * RpcFailure. Anything else, and every one-way message, upload and connection event, goes to
 * `fallback`; without one, a non-service RPC fails with an RpcFailure saying so.
 *
 * Requests are peer input: one over `maxServiceRequestBytes` is refused by its size, and the rest
 * are scanned against the decode limits before msgpackr builds anything (`msgpack-scanner.ts`);
 * either refusal is an `ERR_RPC_LIMIT` reply naming the limit. The router also declares its size
 * limit to the connection (`maxRequestBytes`), so a request over it is skipped as it arrives,
 * never buffered, and refused with an RpcFailure naming `maxServiceRequestBytes` (with a fallback
 * that declares no limit of its own, requests up to the frame limit are received and refused
 * here). Failure replies quote names and
 * error descriptions as short excerpts, never the peer's input whole.
 *
 * @module
 */

import type { TransportClient } from "../client/transport-client.ts";
import { describeError, InvalidArgumentError, LimitError, PayloadError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import type { RpcHandler } from "../responder/rpc-handler.ts";
import { DETAIL_CHARS, excerpt, quoteExcerpt } from "../excerpt.ts";
import { positiveInteger } from "../options.ts";
import { resolveServiceDecodeLimits, type ServiceDecodeLimits } from "./msgpack-scanner.ts";
import {
  decodeServiceRequest,
  encodeServiceFailure,
  encodeServiceSuccess,
  isServiceFailureReply,
  isServiceRequest,
} from "./rpc-envelope.ts";
import { RpcErrorCode, ServiceError } from "./rpc-errors.ts";
import type {
  AnyMethod,
  MethodMap,
  ServiceCallContext,
  ServiceDefinition,
  ServiceImplementation,
} from "./service-definition.ts";
import { findMethod } from "./service-definition.ts";
import { context as otelContext } from "@opentelemetry/api";
import { type FerrySpan, startServiceServerSpan } from "../observability/tracing.ts";

/**
 * Options of a {@linkcode ServiceRouter}. The limits default to `src/limits.ts`'s; a request over
 * one gets an `ERR_RPC_LIMIT` failure reply naming it, decoded no further than the limit.
 */
export interface ServiceRouterOptions extends Partial<ServiceDecodeLimits> {
  /** Largest request body decoded, prefix included (default `maxServiceRequestBytes`, 8 MiB). */
  readonly maxServiceRequestBytes?: number;
  /** Receives every body that is not a service request, and all other handler events. */
  readonly fallback?: RpcHandler;
  /**
   * An implementation threw something other than a `ServiceError` (the caller receives
   * `ERR_RPC_INTERNAL` with the error's message). Default: ignored.
   */
  readonly onInternalError?: (error: unknown, context: ServiceCallContext) => void;
}

type AnyImplementation = (params: unknown, context: ServiceCallContext) => unknown;

interface ServedMethod {
  readonly definition: AnyMethod;
  readonly implementation: AnyImplementation;
}

/**
 * An `RpcHandler` serving any number of typed services.
 *
 * @example
 * ```ts
 * import { TransportServer } from "ferry-transport";
 * import { defineService, method, ServiceError, ServiceRouter } from "ferry-transport/rpc";
 *
 * const notes = defineService("example.notes", {
 *   get: method<{ id: bigint }, { text: string }>(),
 * });
 * const stored = new Map([[1n, { text: "first" }]]);
 * const router = new ServiceRouter().serve(notes, {
 *   get: ({ id }) => {
 *     const note = stored.get(id);
 *     if (note === undefined) throw new ServiceError("E_NO_NOTE", `no note ${id}`);
 *     return note;
 *   },
 * });
 * const server = new TransportServer({ rpcHandler: router });
 * await server.close();
 * ```
 */
export class ServiceRouter implements RpcHandler {
  readonly #services = new Map<string, Map<string, ServedMethod>>();
  readonly #fallback: RpcHandler | undefined;
  readonly #onInternalError: ServiceRouterOptions["onInternalError"];
  readonly #maxRequestBytes: number;
  readonly #limits: ServiceDecodeLimits;

  constructor(options: ServiceRouterOptions = {}) {
    if (options.fallback !== undefined && typeof options.fallback?.receive !== "function") {
      throw new InvalidArgumentError("ServiceRouter: fallback must be an RpcHandler");
    }
    this.#fallback = options.fallback;
    this.#onInternalError = options.onInternalError;
    this.#maxRequestBytes = options.maxServiceRequestBytes === undefined
      ? defaultLimits.maxServiceRequestBytes
      : positiveInteger(
        options.maxServiceRequestBytes,
        "ServiceRouterOptions.maxServiceRequestBytes",
      );
    this.#limits = resolveServiceDecodeLimits(options, "ServiceRouterOptions");
  }

  /**
   * The largest request body the connection should receive for this router (RpcHandler
   * contract): `maxServiceRequestBytes` when every request is a typed call (no fallback), or the
   * larger of it and the fallback's own limit; undefined when the fallback has none (the frame
   * limit applies). Larger requests are then skipped unread by the connection and refused with an
   * RpcFailure naming `maxServiceRequestBytes`, instead of being buffered whole first.
   */
  get maxRequestBytes(): number | undefined {
    const fallback = this.#fallback;
    if (fallback === undefined) return this.#maxRequestBytes;
    const theirs = fallback.maxRequestBytes;
    return theirs === undefined ? undefined : Math.max(theirs, this.#maxRequestBytes);
  }

  /** The name of {@linkcode maxRequestBytes} in failure replies. */
  get maxRequestBytesName(): string {
    const theirs = this.#fallback?.maxRequestBytes;
    return theirs !== undefined && theirs > this.#maxRequestBytes
      ? (this.#fallback!.maxRequestBytesName ?? "maxRequestBytes")
      : "maxServiceRequestBytes";
  }

  /** Names of the services served. */
  get services(): readonly string[] {
    return [...this.#services.keys()];
  }

  /**
   * Serves `definition` with `implementation` (one function per method, all required).
   * @throws InvalidArgumentError when the service is already served or a method is missing.
   */
  serve<M extends MethodMap>(
    definition: ServiceDefinition<M>,
    implementation: ServiceImplementation<M>,
  ): this {
    if (this.#services.has(definition.name)) {
      throw new InvalidArgumentError(
        `ServiceRouter: service ${definition.name} is already served`,
      );
    }
    const methods = new Map<string, ServedMethod>();
    for (const name of Object.keys(definition.methods)) {
      const fn = (implementation as Record<string, unknown>)[name];
      if (typeof fn !== "function") {
        throw new InvalidArgumentError(
          `ServiceRouter: the implementation of ${definition.name} has no function ${name} ` +
            `(got ${typeof fn})`,
        );
      }
      methods.set(name, {
        definition: findMethod(definition, name)!,
        implementation: (fn as AnyImplementation).bind(implementation),
      });
    }
    this.#services.set(definition.name, methods);
    return this;
  }

  receive(client: TransportClient, message: Uint8Array): Uint8Array | Promise<Uint8Array> {
    if (!isServiceRequest(message)) {
      if (this.#fallback !== undefined) return this.#fallback.receive(client, message);
      throw new PayloadError(
        `Refusing an RPC of ${message.byteLength} bytes: it is not a typed-service request and ` +
          `this server has no other handler`,
      );
    }
    if (message.byteLength > this.#maxRequestBytes) {
      return encodeServiceFailure(
        RpcErrorCode.Limit,
        `Refusing a service request of ${message.byteLength} bytes: over ` +
          `maxServiceRequestBytes (${this.#maxRequestBytes})`,
      );
    }
    let request;
    try {
      request = decodeServiceRequest(message, this.#limits);
    } catch (error) {
      return encodeServiceFailure(
        error instanceof LimitError ? RpcErrorCode.Limit : RpcErrorCode.BadRequest,
        detail(error),
      );
    }
    const { service, method, params } = request;
    const methods = this.#services.get(service);
    if (methods === undefined) {
      return encodeServiceFailure(
        RpcErrorCode.UnknownService,
        `Unknown service ${quoteExcerpt(service)} (served: ${this.services.join(", ")})`,
      );
    }
    const served = methods.get(method);
    if (served === undefined) {
      return encodeServiceFailure(
        RpcErrorCode.UnknownMethod,
        `Unknown method ${quoteExcerpt(method)} of service ${service} (methods: ${
          [...methods.keys()].join(", ")
        })`,
      );
    }
    const span = startServiceServerSpan(service, method, request.traceparent);
    if (span === undefined) return this.#serve(client, served, service, method, params);
    // Served inside the span's context; the span ends with the reply (a failure reply: error).
    return endServiceSpan(
      span,
      otelContext.with(span.context, () => this.#serve(client, served, service, method, params)),
    );
  }

  #serve(
    client: TransportClient,
    served: ServedMethod,
    service: string,
    method: string,
    params: unknown,
  ): Uint8Array | Promise<Uint8Array> {
    const context: ServiceCallContext = { client, service, method };
    let checked = params;
    const check = served.definition.params;
    if (check !== undefined) {
      try {
        checked = check(params);
      } catch (error) {
        return encodeServiceFailure(
          RpcErrorCode.BadRequest,
          `Invalid parameters for ${service}.${method}: ${detail(error)}`,
        );
      }
    }
    let result: unknown;
    try {
      result = served.implementation(checked, context);
    } catch (error) {
      return this.#failure(error, context);
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then(
        (value) => this.#success(value, context),
        (error) => this.#failure(error, context),
      );
    }
    return this.#success(result, context);
  }

  receiveOneWay(client: TransportClient, message: Uint8Array): void | Promise<void> {
    if (this.#fallback?.receiveOneWay === undefined) {
      throw new PayloadError(
        `Dropping a one-way message of ${message.byteLength} bytes: typed services take RPCs only`,
      );
    }
    return this.#fallback.receiveOneWay(client, message);
  }

  receiveStream(
    client: TransportClient,
    meta: Uint8Array,
    body: ReadableStream<Uint8Array>,
  ): Uint8Array | Promise<Uint8Array> {
    if (this.#fallback?.receiveStream === undefined) {
      body.cancel().catch(() => {});
      throw new PayloadError(
        `Refusing an upload (${meta.byteLength} bytes of meta): typed services take RPCs only`,
      );
    }
    return this.#fallback.receiveStream(client, meta, body);
  }

  channelActive(client: TransportClient): void {
    this.#fallback?.channelActive?.(client);
  }

  channelInactive(client: TransportClient, error: unknown): void {
    this.#fallback?.channelInactive?.(client, error);
  }

  #success(value: unknown, context: ServiceCallContext): Uint8Array {
    try {
      return encodeServiceSuccess(value, `the result of ${context.service}.${context.method}`);
    } catch (error) {
      return encodeServiceFailure(RpcErrorCode.BadResult, detail(error));
    }
  }

  #failure(error: unknown, context: ServiceCallContext): Uint8Array {
    if (error instanceof ServiceError) {
      return encodeServiceFailure(error.serviceCode, error.message);
    }
    try {
      this.#onInternalError?.(error, context);
    } catch {
      // A reporting hook must not change the reply.
    }
    return encodeServiceFailure(
      RpcErrorCode.Internal,
      `${context.service}.${context.method} failed: ${detail(error)}`,
    );
  }
}

/**
 * An error's description cut to an excerpt: checks and implementations often quote the value they
 * refused, which is peer input.
 */
function detail(error: unknown): string {
  return excerpt(describeError(error), DETAIL_CHARS);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

/** Ends a service call's SERVER span with its reply: a failure reply marks it as an error. */
function endServiceSpan(
  span: FerrySpan,
  reply: Uint8Array | Promise<Uint8Array>,
): Uint8Array | Promise<Uint8Array> {
  const end = (bytes: Uint8Array) => {
    span.end(isServiceFailureReply(bytes) ? "ServiceFailure" : undefined);
    return bytes;
  };
  if (reply instanceof Uint8Array) return end(reply);
  return reply.then(end, (error) => {
    span.end(error);
    throw error;
  });
}
