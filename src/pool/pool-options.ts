/**
 * What the pool pools, how it opens connections, and every knob it has, with defaults and
 * validation. The pool depends only on the small {@linkcode PooledClient} shape, so it pools
 * `TransportClient`s in production and plain fakes in unit tests.
 *
 * Convention for durations: milliseconds, `0` disables the rule (no deadline, no TTL, no idle
 * eviction, no validation).
 *
 * @module
 */

import type { CallOptions } from "../deadline.ts";
import { InvalidArgumentError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import type { Clock } from "../clock.ts";
import type { Route } from "./route.ts";

/** The part of a client the pool relies on. `TransportClient` satisfies it. */
export interface PooledClient {
  /** False once the connection is closing or closed: such a client is never handed out. */
  readonly isActive: boolean;
  /** Closes the connection (idempotent). */
  close(): unknown;
  /** Settles once the connection has ended, for whatever reason. */
  readonly closed: PromiseLike<unknown>;
}

/** Opens one client to `route`. Rejects (ConnectError, TimeoutError, ...) without leaking it. */
export type Connector<C> = (route: Route, options: CallOptions) => Promise<C>;

/** What a bootstrap learns about the connection it runs on. */
export interface BootstrapContext {
  /** The route as the pool received it, and its key. */
  readonly route: Route;
  readonly routeKey: string;
  /** Deadline and cancellation for the bootstrap's round trips. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /**
   * Features the peer is known to support. A bootstrap that learns something about the peer adds
   * it here (the shared-secret bootstrap adds `"ferry"`: only a Ferry server completes it).
   */
  readonly peerFeatures: Set<string>;
}

/**
 * Runs on every new connection before it is handed out (authentication, say). A rejection closes
 * the connection and fails the leases waiting for it with that same error.
 */
export type ClientBootstrap<C> = (client: C, context: BootstrapContext) => Promise<void> | void;

/** What a validator knows about the connection it checks. */
export interface PooledConnectionInfo {
  readonly routeKey: string;
  readonly peerFeatures: ReadonlySet<string>;
  /** Clock times (see `Clock.now`). */
  readonly createdAt: number;
  readonly idleSince: number;
}

/**
 * Checks a connection that sat idle for `validateAfterInactivityMs` before it is handed out.
 * Resolve `false` or reject to have it closed and replaced. A validator decides per peer whether it
 * can really round-trip (see `ferryPingValidator`).
 */
export type ConnectionValidator<C> = (
  client: C,
  info: PooledConnectionInfo,
  options: CallOptions,
) => Promise<boolean> | boolean;

/** Observability hooks. Called synchronously; they must not throw (a throw is re-raised later). */
export interface PoolHooks<C> {
  /** A connection is open and bootstrapped, `elapsedMs` after the attempt started. */
  connect?(routeKey: string, client: C, elapsedMs: number): void;
  /** Opening a connection failed (connector or bootstrap). */
  connectFailed?(routeKey: string, error: unknown): void;
  /** A pooled connection left the pool (`reason` says why: idle, ttl, inactive, ...). */
  close?(routeKey: string, client: C, reason: PoolCloseReason): void;
  /** A lease was granted. */
  lease?(routeKey: string, client: C): void;
  /** A lease was released. */
  release?(routeKey: string, client: C, reusable: boolean): void;
}

/** Why the pool closed a connection. */
export type PoolCloseReason =
  | "idle"
  | "ttl"
  | "inactive"
  | "not-reusable"
  | "validation-failed"
  | "bootstrap-failed"
  | "evicted-for-other-route"
  | "pool-closed";

/** Limits and rules that can differ per route. */
export interface RouteOptions {
  /** Connections (open or opening) to this route. Default 8. */
  readonly maxPerRoute?: number;
  /** Concurrent leases per connection: 1 = exclusive (HttpClient), Infinity = shared (Spark). */
  readonly maxStreamsPerConnection?: number;
  /** Deadline for the connector. Default `defaultLimits.connectTimeoutMs`. */
  readonly connectTimeoutMs?: number;
  /** Idle at least this long: validate before handing out. Default 2000; 0 = never. */
  readonly validateAfterInactivityMs?: number;
  /** Never hand out a connection older than this. Default 0 (no TTL). */
  readonly timeToLiveMs?: number;
  /** Close connections idle this long. Default 60000; 0 = never. */
  readonly idleTimeoutMs?: number;
  /** Byte budget for chunk fetches in flight to this peer. Default 48 MiB (Spark's default). */
  readonly maxBytesInFlight?: number;
  /** Features the peer is known to support without learning them (e.g. `["ferry"]`). */
  readonly peerFeatures?: readonly string[];
}

/** Jittered exponential backoff after failed connects; inside it new connects fail fast. */
export interface ConnectBackoffOptions {
  /** First window after a failure. Default 200 ms. */
  readonly initialMs?: number;
  /** Longest window. Default 15000 ms. */
  readonly maxMs?: number;
  /** Fraction of each window removed at random (0 = none, 1 = full jitter). Default 0.5. */
  readonly jitter?: number;
}

/** Everything `new ConnectionPool(...)` accepts. */
export interface ConnectionPoolOptions<C extends PooledClient> extends RouteOptions {
  readonly connector: Connector<C>;
  /** Connections (open or opening) across all routes. Default 64. */
  readonly maxTotal?: number;
  /** Default deadline for `lease` when the caller gives none. Default 30000; 0 = wait forever. */
  readonly leaseTimeoutMs?: number;
  /** Which idle connection is reused first: the most recent (lifo, default) or oldest (fifo). */
  readonly reusePolicy?: "lifo" | "fifo";
  /** Run in order on every new connection before it is handed out. */
  readonly bootstraps?: readonly ClientBootstrap<C>[];
  /** Deadline for all bootstraps of one connection. Default `defaultLimits.authTimeoutMs`. */
  readonly bootstrapTimeoutMs?: number;
  /** Liveness check after inactivity; without one only `isActive`, TTL and idle rules apply. */
  readonly validate?: ConnectionValidator<C>;
  /** Deadline for one validation. Default 5000. */
  readonly validationTimeoutMs?: number;
  /** Fast-fail window and backoff after a failed connect; `false` disables. */
  readonly connectBackoff?: ConnectBackoffOptions | false;
  /** Overrides by route key (see `routeKey`). */
  readonly routes?: Readonly<Record<string, RouteOptions>>;
  readonly hooks?: PoolHooks<C>;
  /** Time source; tests inject a controllable one. */
  readonly clock?: Clock;
  /** Random source in [0, 1) for backoff jitter. Default `Math.random`. */
  readonly random?: () => number;
}

/** Fully resolved per-route settings. */
export interface RouteSettings {
  readonly maxPerRoute: number;
  readonly maxStreamsPerConnection: number;
  readonly connectTimeoutMs: number;
  readonly validateAfterInactivityMs: number;
  readonly timeToLiveMs: number;
  readonly idleTimeoutMs: number;
  readonly maxBytesInFlight: number;
  readonly peerFeatures: readonly string[];
}

/**
 * Defaults applied when an option is absent.
 *
 * @example
 * ```ts
 * import { defaultPoolOptions } from "ferry-transport/pool";
 *
 * console.log(defaultPoolOptions.maxPerRoute, defaultPoolOptions.idleTimeoutMs); // 8 60000
 * ```
 */
export const defaultPoolOptions = {
  maxTotal: 64,
  maxPerRoute: 8,
  maxStreamsPerConnection: Infinity,
  connectTimeoutMs: defaultLimits.connectTimeoutMs,
  leaseTimeoutMs: 30_000,
  validateAfterInactivityMs: 2_000,
  validationTimeoutMs: 5_000,
  timeToLiveMs: 0,
  idleTimeoutMs: 60_000,
  maxBytesInFlight: 48 * 1024 * 1024,
  bootstrapTimeoutMs: defaultLimits.authTimeoutMs,
  backoffInitialMs: 200,
  backoffMaxMs: 15_000,
  backoffJitter: 0.5,
} as const;

/** Resolves a route's settings: `override` over `base`, validated. */
export function resolveRouteSettings(
  base: RouteOptions,
  override: RouteOptions | undefined,
  where: string,
): RouteSettings {
  const pick = <K extends keyof RouteOptions>(key: K): RouteOptions[K] =>
    override?.[key] !== undefined ? override[key] : base[key];
  return {
    maxPerRoute: positiveCount(
      pick("maxPerRoute") ?? defaultPoolOptions.maxPerRoute,
      "maxPerRoute",
      where,
    ),
    maxStreamsPerConnection: positiveCount(
      pick("maxStreamsPerConnection") ?? defaultPoolOptions.maxStreamsPerConnection,
      "maxStreamsPerConnection",
      where,
    ),
    connectTimeoutMs: duration(
      pick("connectTimeoutMs") ?? defaultPoolOptions.connectTimeoutMs,
      "connectTimeoutMs",
      where,
    ),
    validateAfterInactivityMs: duration(
      pick("validateAfterInactivityMs") ?? defaultPoolOptions.validateAfterInactivityMs,
      "validateAfterInactivityMs",
      where,
    ),
    timeToLiveMs: duration(
      pick("timeToLiveMs") ?? defaultPoolOptions.timeToLiveMs,
      "timeToLiveMs",
      where,
    ),
    idleTimeoutMs: duration(
      pick("idleTimeoutMs") ?? defaultPoolOptions.idleTimeoutMs,
      "idleTimeoutMs",
      where,
    ),
    maxBytesInFlight: positiveCount(
      pick("maxBytesInFlight") ?? defaultPoolOptions.maxBytesInFlight,
      "maxBytesInFlight",
      where,
    ),
    peerFeatures: [...(pick("peerFeatures") ?? [])],
  };
}

/** An integer ≥ 1, or Infinity. */
export function positiveCount(value: unknown, name: string, where: string): number {
  if (value === Infinity || (Number.isInteger(value) && (value as number) >= 1)) {
    return value as number;
  }
  throw new InvalidArgumentError(
    `Cannot configure ${where}: ${name} must be an integer ≥ 1 or Infinity, received ${
      String(value)
    }`,
  );
}

/** A finite number of milliseconds ≥ 0. */
export function duration(value: unknown, name: string, where: string): number {
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value;
  throw new InvalidArgumentError(
    `Cannot configure ${where}: ${name} must be a finite number of milliseconds ≥ 0, received ${
      String(value)
    }`,
  );
}
