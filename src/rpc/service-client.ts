/**
 * Typed clients: `serviceClient(definition, target)` returns an object with one async function per
 * method. Each call encodes `[service, method, params]`, sends it as one RPC with the call's
 * `{ timeoutMs, signal }`, and resolves with the decoded result — or rejects with:
 *
 * - `RemoteError` when the service replied with a failure (`remoteCode` / `remoteMessage` are the
 *   code and message it sent; `RpcErrorCode` for unknown services, methods and bad requests);
 * - `PayloadError` when the parameters cannot be encoded or the reply is not a well-formed reply
 *   (or fails the method's `result` check);
 * - whatever the RPC itself fails with (`TimeoutError`, `ConnectionClosedError`, the signal's
 *   reason, `RemoteError` without a `remoteCode` for an RpcFailure).
 *
 * A target is anything with `sendRpc` (a `TransportClient`, `lease.client`) or a pool route
 * ({@linkcode pooledRpcTarget}): each call then leases a connection for its duration.
 *
 * @module
 */

import type { CallOptions } from "../deadline.ts";
import { describeError, InvalidArgumentError, PayloadError, RemoteError } from "../errors.ts";
import type { ConnectionPool } from "../pool/connection-pool.ts";
import type { PooledClient } from "../pool/pool-options.ts";
import type { Route } from "../pool/route.ts";
import { DETAIL_CHARS, excerpt } from "../excerpt.ts";
import { resolveServiceDecodeLimits, type ServiceDecodeLimits } from "./msgpack-scanner.ts";
import { decodeServiceReply, encodeServiceRequest } from "./rpc-envelope.ts";
import { startServiceClientSpan } from "../observability/tracing.ts";
import { context as otelContext } from "@opentelemetry/api";
import type { MethodMap, ServiceClient, ServiceDefinition } from "./service-definition.ts";

/** Something that sends an RPC and resolves with the reply body. */
export interface RpcTarget {
  sendRpc(body: Uint8Array, options?: CallOptions): Promise<Uint8Array>;
  readonly remoteAddress?: string;
}

/**
 * Options of a typed client. Replies are decoded under the decode limits (defaults in
 * `src/limits.ts`): a reply over one fails its call with a `LimitError` naming it.
 */
export interface ServiceClientOptions extends Partial<ServiceDecodeLimits> {
  /** Applied to calls that give no `timeoutMs` of their own. */
  readonly timeoutMs?: number;
}

/**
 * A typed client of `definition` calling through `target`.
 *
 * @example
 * ```ts
 * import { TransportClient } from "ferry-transport";
 * import { defineService, method, serviceClient } from "ferry-transport/rpc";
 * import { tcpConnect } from "ferry-transport/node";
 *
 * const notes = defineService("example.notes", {
 *   get: method<{ id: bigint }, { text: string }>(),
 * });
 * const client = await TransportClient.connect(tcpConnect({ host: "127.0.0.1", port: 7337 }));
 * const api = serviceClient(notes, client);
 * const { text } = await api.get({ id: 1n }, { timeoutMs: 1_000 });
 * console.log(text);
 * await client.close();
 * ```
 */
export function serviceClient<M extends MethodMap>(
  definition: ServiceDefinition<M>,
  target: RpcTarget,
  options: ServiceClientOptions = {},
): ServiceClient<M> {
  if (typeof target?.sendRpc !== "function") {
    throw new InvalidArgumentError(
      `serviceClient(${definition?.name}): target must have a sendRpc function`,
    );
  }
  const defaultTimeoutMs = options.timeoutMs;
  const limits = resolveServiceDecodeLimits(options, `serviceClient(${definition?.name})`);
  const client: Record<string, unknown> = {};
  for (const [methodName, methodDefinition] of Object.entries(definition.methods)) {
    const what = `${definition.name}.${methodName}`;
    const checkResult = methodDefinition.result;
    client[methodName] = async (params?: unknown, callOptions?: CallOptions) => {
      const span = startServiceClientSpan(definition.name, methodName, target.remoteAddress);
      try {
        // The RPC is sent inside the span's context: a tapped connection's request span is its child.
        const value = await (span === undefined
          ? call(params, callOptions)
          : otelContext.with(span.context, call, undefined, params, callOptions, span.traceparent));
        span?.end();
        return value;
      } catch (error) {
        span?.end(error);
        throw error;
      }
    };
    const call = async (params: unknown, callOptions: CallOptions | undefined, tp?: string) => {
      const body = encodeServiceRequest(definition.name, methodName, params, tp);
      const effective = callOptions?.timeoutMs === undefined && defaultTimeoutMs !== undefined
        ? { ...callOptions, timeoutMs: defaultTimeoutMs }
        : callOptions;
      const replyBody = await target.sendRpc(body, effective);
      const reply = decodeServiceReply(replyBody, what, limits);
      if (!reply.ok) {
        const peer = target.remoteAddress === undefined ? "" : ` on ${target.remoteAddress}`;
        // The message quotes an excerpt (it ends up in logs); remoteMessage has it all.
        throw new RemoteError(
          `${what}${peer} failed: ${excerpt(reply.code)}: ${excerpt(reply.message, DETAIL_CHARS)}`,
          reply.message,
          { remoteCode: reply.code },
        );
      }
      if (checkResult === undefined) return reply.value;
      try {
        return checkResult(reply.value);
      } catch (error) {
        const why = excerpt(describeError(error), DETAIL_CHARS);
        throw new PayloadError(`Invalid result from ${what}: ${why}`, { cause: error });
      }
    };
  }
  return Object.freeze(client) as ServiceClient<M>;
}

/**
 * An {@linkcode RpcTarget} that leases a connection to `route` from `pool` for each call and
 * releases it when the reply (or failure) arrives. The call's deadline covers the lease too.
 *
 * @example
 * ```ts
 * import type { TransportClient } from "ferry-transport";
 * import type { ConnectionPool } from "ferry-transport/pool";
 * import { defineService, method, pooledRpcTarget, serviceClient } from "ferry-transport/rpc";
 *
 * declare const pool: ConnectionPool<TransportClient>;
 * const notes = defineService("example.notes", {
 *   get: method<{ id: bigint }, { text: string }>(),
 * });
 * // Each call leases a connection to executor-1 and gives it back when the reply is in.
 * const api = serviceClient(notes, pooledRpcTarget(pool, "executor-1"));
 * console.log((await api.get({ id: 1n })).text);
 * ```
 */
export function pooledRpcTarget<C extends PooledClient & RpcTarget>(
  pool: ConnectionPool<C>,
  route: Route,
): RpcTarget {
  return {
    remoteAddress: typeof route === "string" ? route : `${route.host}:${route.port}`,
    async sendRpc(body: Uint8Array, options?: CallOptions): Promise<Uint8Array> {
      // The lease's wait is timed on the pool's clock: the call gets what is left of it.
      const clock = pool.clock;
      const started = clock.now();
      const lease = await pool.lease(route, options);
      try {
        const timeoutMs = options?.timeoutMs;
        const remaining = timeoutMs === undefined || timeoutMs === 0
          ? timeoutMs
          : Math.max(1, timeoutMs - (clock.now() - started));
        return await lease.client.sendRpc(body, { ...options, timeoutMs: remaining });
      } finally {
        lease.release();
      }
    },
  };
}
