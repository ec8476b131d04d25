/**
 * A typed service, defined once and shared by the server that implements it and the clients that
 * call it:
 *
 * ```ts
 * const greeter = defineService("example.greeter", {
 *   hello: method<{ name: string }, string>({ params: (v) => checkName(v) }),
 *   stats: method<void, { calls: bigint }>(),
 * });
 * ```
 *
 * Each method has one parameter value and one result value (use an object for several fields).
 * The optional `params` / `result` checks turn a decoded `unknown` into the declared type or throw;
 * the server runs `params` before calling the implementation (a throw is a `BadRequest` reply), the
 * client runs `result` on the reply (a throw is a `PayloadError`).
 *
 * @module
 */

import type { CallOptions } from "../deadline.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { TransportClient } from "../client/transport-client.ts";

/** One method: its parameter and result types (compile time) and optional runtime checks. */
export interface MethodDefinition<P, R> {
  /** Checks decoded parameters on the server; return the typed value or throw. */
  readonly params?: (value: unknown) => P;
  /** Checks a decoded result on the client; return the typed value or throw. */
  readonly result?: (value: unknown) => R;
  /** Carries the types only; never present at run time. */
  readonly __types?: { readonly params: P; readonly result: R };
}

// deno-lint-ignore no-explicit-any
export type AnyMethod = MethodDefinition<any, any>;

/** A service's methods by name. */
export type MethodMap = { readonly [name: string]: AnyMethod };

/** A named set of methods. */
export interface ServiceDefinition<M extends MethodMap> {
  readonly name: string;
  readonly methods: M;
}

/** Parameter type of a method. */
export type ParamsOf<D> = D extends MethodDefinition<infer P, unknown> ? P : never;
/** Result type of a method. */
export type ResultOf<D> = D extends MethodDefinition<unknown, infer R> ? R : never;

/** What an implementation learns about the call it serves. */
export interface ServiceCallContext {
  /** The connection the call arrived on (register streams for it, send it RPCs). */
  readonly client: TransportClient;
  readonly service: string;
  readonly method: string;
}

/** The server side of a service: one function per method. */
export type ServiceImplementation<M extends MethodMap> = {
  readonly [K in keyof M]: (
    params: ParamsOf<M[K]>,
    context: ServiceCallContext,
  ) => ResultOf<M[K]> | Promise<ResultOf<M[K]>>;
};

/** The client side of a service: one async function per method, each with `{ timeoutMs, signal }`. */
export type ServiceClient<M extends MethodMap> = {
  readonly [K in keyof M]: undefined extends ParamsOf<M[K]>
    ? (params?: ParamsOf<M[K]>, options?: CallOptions) => Promise<ResultOf<M[K]>>
    : (params: ParamsOf<M[K]>, options?: CallOptions) => Promise<ResultOf<M[K]>>;
};

const NAME = /^[A-Za-z_][A-Za-z0-9_.\-]{0,127}$/;
const RESERVED = new Set(["__proto__", "constructor", "prototype", "then"]);

/**
 * A method with parameters `P` and result `R`, optionally checked at run time.
 *
 * @example
 * ```ts
 * import { defineService, method } from "ferry-transport/rpc";
 *
 * // Params and result are types only: nothing is checked at run time beyond msgpack's shapes.
 * export const clock = defineService("example.clock", {
 *   now: method<void, { epochMs: number }>(),
 *   sleep: method<{ ms: number }>(),
 * });
 * ```
 */
export function method<P = void, R = void>(
  checks: { params?: (value: unknown) => P; result?: (value: unknown) => R } = {},
): MethodDefinition<P, R> {
  for (const key of ["params", "result"] as const) {
    if (checks[key] !== undefined && typeof checks[key] !== "function") {
      throw new InvalidArgumentError(
        `method(): ${key} must be a function, got ${typeof checks[key]}`,
      );
    }
  }
  return Object.freeze({ ...checks });
}

/**
 * Defines a service. Names (service and methods) are 1–128 characters of letters, digits, `_`,
 * `.` and `-`, starting with a letter or `_`; `__proto__`, `constructor`, `prototype` and `then`
 * are refused as method names.
 *
 * @example
 * ```ts
 * import { defineService, method } from "ferry-transport/rpc";
 *
 * const notes = defineService("example.notes", {
 *   put: method<{ text: string }, { id: bigint }>(),
 *   get: method<{ id: bigint }, { text: string }>(),
 * });
 * console.log(notes.name);
 * ```
 */
export function defineService<M extends MethodMap>(
  name: string,
  methods: M,
): ServiceDefinition<M> {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new InvalidArgumentError(
      `defineService: invalid service name ${JSON.stringify(name)} (letters, digits, _ . -)`,
    );
  }
  if (typeof methods !== "object" || methods === null) {
    throw new InvalidArgumentError(
      `defineService(${name}): methods must be an object, got ${methods}`,
    );
  }
  const names = Object.keys(methods);
  if (names.length === 0) {
    throw new InvalidArgumentError(`defineService(${name}): a service needs at least one method`);
  }
  for (const methodName of names) {
    if (!NAME.test(methodName) || RESERVED.has(methodName)) {
      throw new InvalidArgumentError(
        `defineService(${name}): invalid method name ${JSON.stringify(methodName)}`,
      );
    }
    const definition = methods[methodName];
    if (typeof definition !== "object" || definition === null) {
      throw new InvalidArgumentError(
        `defineService(${name}): method ${methodName} must be made with method(), got ${definition}`,
      );
    }
  }
  return Object.freeze({ name, methods: Object.freeze({ ...methods }) });
}

/** The method definition `methodName` of `definition`, or undefined (own properties only). */
export function findMethod(
  definition: ServiceDefinition<MethodMap>,
  methodName: string,
): AnyMethod | undefined {
  return Object.hasOwn(definition.methods, methodName) ? definition.methods[methodName] : undefined;
}
