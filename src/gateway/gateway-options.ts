/**
 * Everything `new Gateway(...)` accepts, with defaults and validation. Targets are configured
 * here, server-side; a browser only ever names one.
 *
 * @module
 */

import type { ClientOptions } from "../client/client-options.ts";
import { type Clock, systemClock } from "../clock.ts";
import type { TransportClient } from "../client/transport-client.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { FerryHeartbeatOptions } from "../extensions/ferry-heartbeat.ts";
import { defaultLimits } from "../limits.ts";
import { integerAtLeast } from "../options.ts";
import { MIN_FRAME_LENGTH } from "../protocol/frame-limits.ts";
import type { ClientBootstrap } from "../pool/pool-options.ts";
import type { Connect } from "../socket.ts";
import { bearerTokenAuthenticator, type GatewayAuthenticator } from "./gateway-token.ts";

const MiB = 1024 * 1024;

/** A backend a browser may reach: a host and port, or a `Connect` of its own. */
export type GatewayTarget =
  & ({ readonly host: string; readonly port: number } | { readonly connect: Connect })
  & {
    /** Sessions (= backend connections) to this target at once. Default `maxConnections`. */
    readonly maxSessions?: number;
    /** Features the backend is known to have, e.g. `["ferry"]` (enables the Ferry heartbeat). */
    readonly peerFeatures?: readonly string[];
  };

/** Backend side: how connections to targets are opened, authenticated and watched. */
export interface GatewayBackendOptions {
  /** Options of every backend `TransportClient` (frame limit, `connectionTimeoutMs`, ...). */
  readonly clientOptions?: ClientOptions;
  /** Run on each backend connection before a session uses it (e.g. `sharedSecretBootstrap`). */
  readonly bootstraps?: readonly ClientBootstrap<TransportClient>[];
  /**
   * Ferry heartbeat on backends known to be Ferry (`peerFeatures` or learned by authentication);
   * `false` disables. Spark backends rely on the client's `connectionTimeoutMs`.
   */
  readonly heartbeat?: FerryHeartbeatOptions | false;
  /** Deadline for connecting (and bootstrapping) a session's backend. Default 10 000 ms. */
  readonly connectTimeoutMs?: number;
}

export interface GatewayOptions {
  /** Target name → backend. Looked up by exact name only (own keys, never the prototype). */
  readonly targets: Readonly<Record<string, GatewayTarget>> | ReadonlyMap<string, GatewayTarget>;
  /** Turns a `{ host, port }` target into a `Connect` (the runner passes its `tcpConnect`). */
  readonly connect?: (address: { readonly host: string; readonly port: number }) => Connect;
  /**
   * Origins allowed to open sessions, compared exactly (e.g. `https://app.example.com`). `"*"`
   * allows any origin (development only). Required.
   */
  readonly allowedOrigins: readonly string[];
  /** Accept upgrades without an Origin header (non-browser clients). Default false. */
  readonly allowMissingOrigin?: boolean;
  /** Path prefix: sessions are opened at `<pathPrefix><target>`. Default `/gateway/`. */
  readonly pathPrefix?: string;
  /** Built-in bearer token; the browser sends it first (see `gatewayTokenBootstrap`). */
  readonly token?: string | Uint8Array;
  /** Pluggable authentication instead of `token`. Neither: sessions need no authentication. */
  readonly authenticate?: GatewayAuthenticator;
  /** Deadline for the credential to arrive and be accepted. Default `defaultLimits.authTimeoutMs`. */
  readonly authTimeoutMs?: number;
  /** Sessions at once. Default `defaultLimits.gatewayMaxSessions` (4096). */
  readonly maxConnections?: number;
  /** Sessions at once from one IP address. Default `defaultLimits.gatewayMaxSessionsPerAddress` (64). */
  readonly maxConnectionsPerIp?: number;
  /**
   * A session with no browser request for this long and nothing in flight is closed (4408), even
   * if the browser answers pings. 0 = never. Default `defaultLimits.gatewayIdleTimeoutMs`.
   */
  readonly idleTimeoutMs?: number;
  /** Largest frame a browser may send. Default 16 MiB. */
  readonly maxFrameLength?: number;
  /** Forward UploadStream from browsers. Default false (refused with 1008). */
  readonly allowUpload?: boolean;
  /**
   * Requests one session keeps in flight to its backend before the browser is paused, counted per
   * request (not per WebSocket message). Default `defaultLimits.gatewayMaxInFlightRequests` (16).
   */
  readonly maxInFlightRequests?: number;
  /** Request bytes in flight to the backend before the browser is paused. Default 8 MiB. */
  readonly maxRequestBytesInFlight?: number;
  /** Bytes queued towards the browser above which its requests pause. Default 1 MiB. */
  readonly highWaterMark?: number;
  /** Bytes queued towards the browser that close the session (4429). Default 128 MiB. */
  readonly maxBufferedBytes?: number;
  /** Queued bytes not draining for this long close the session (4429). Default 60 000 ms. */
  readonly slowConsumerTimeoutMs?: number;
  readonly backend?: GatewayBackendOptions;
  /**
   * The time source of the gateway's deadlines (`authTimeoutMs`, `idleTimeoutMs`,
   * `slowConsumerTimeoutMs`) and of its backend pool. Default `systemClock`; tests pass a
   * hand-driven clock to run those deadlines without waiting.
   *
   * @example
   * ```ts
   * import type { Clock } from "ferry-transport";
   * import { Gateway } from "ferry-transport/gateway";
   * import { tcpConnect } from "ferry-transport/node";
   *
   * // Every deadline of this gateway runs on `clock` (here real time, logging each timer).
   * const clock: Clock = {
   *   now: () => performance.now(),
   *   setTimer(callback, delayMs) {
   *     console.log(`gateway timer in ${delayMs} ms`);
   *     return setTimeout(callback, delayMs);
   *   },
   *   clearTimer: (handle) => clearTimeout(handle as number),
   * };
   * const gateway = new Gateway({
   *   targets: { files: { host: "127.0.0.1", port: 7337 } },
   *   connect: tcpConnect,
   *   allowedOrigins: ["https://app.example.com"],
   *   clock,
   * });
   * await gateway.close();
   * ```
   */
  readonly clock?: Clock;
  /** Told about every refusal and session end (for logs/metrics). Never sees a credential. */
  readonly onEvent?: (event: GatewayEvent) => void;
}

/** What `onEvent` receives. */
export interface GatewayEvent {
  readonly type: "session-open" | "session-close" | "refused";
  readonly target?: string;
  readonly remoteAddress: string;
  readonly closeCode?: number;
  readonly reason?: string;
}

export interface ResolvedGatewayOptions {
  readonly targets: ReadonlyMap<string, GatewayTarget>;
  readonly allowedOrigins: ReadonlySet<string>;
  readonly anyOrigin: boolean;
  readonly allowMissingOrigin: boolean;
  readonly pathPrefix: string;
  readonly authenticate: GatewayAuthenticator | undefined;
  readonly authTimeoutMs: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  readonly maxFrameLength: number;
  readonly allowUpload: boolean;
  readonly maxInFlightRequests: number;
  readonly maxRequestBytesInFlight: number;
  readonly highWaterMark: number;
  readonly maxBufferedBytes: number;
  readonly slowConsumerTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly clock: Clock;
}

/**
 * The gateway's defaults, applied to each option left out of `GatewayOptions`.
 *
 * @example
 * ```ts
 * import { defaultGatewayOptions } from "ferry-transport/gateway";
 *
 * console.log(defaultGatewayOptions.pathPrefix, defaultGatewayOptions.maxConnections);
 * ```
 */
export const defaultGatewayOptions = {
  pathPrefix: "/gateway/",
  authTimeoutMs: defaultLimits.authTimeoutMs,
  maxConnections: defaultLimits.gatewayMaxSessions,
  maxConnectionsPerIp: defaultLimits.gatewayMaxSessionsPerAddress,
  maxFrameLength: 16 * MiB,
  maxInFlightRequests: defaultLimits.gatewayMaxInFlightRequests,
  maxRequestBytesInFlight: 8 * MiB,
  highWaterMark: defaultLimits.writeHighWaterMark,
  maxBufferedBytes: 128 * MiB,
  slowConsumerTimeoutMs: defaultLimits.slowConsumerTimeoutMs,
  backendConnectTimeoutMs: 10_000,
  idleTimeoutMs: defaultLimits.gatewayIdleTimeoutMs,
} as const;

function count(value: number | undefined, fallback: number, name: string, min = 1): number {
  return integerAtLeast(value ?? fallback, min, `GatewayOptions.${name}`);
}

function checkTarget(name: string, target: GatewayTarget): void {
  if (name.length === 0 || name.length > 128 || !/^[A-Za-z0-9._~-]+$/.test(name)) {
    throw new InvalidArgumentError(
      `Invalid gateway target name ${JSON.stringify(name.slice(0, 140))}: use 1–128 characters ` +
        `from A–Z a–z 0–9 . _ ~ -`,
    );
  }
  if (target === null || typeof target !== "object") {
    throw new InvalidArgumentError(`Invalid gateway target '${name}': expected an object`);
  }
  if ("connect" in target) {
    if (typeof target.connect !== "function") {
      throw new InvalidArgumentError(`Invalid gateway target '${name}': connect is not a function`);
    }
  } else if (
    typeof target.host !== "string" || target.host.length === 0 ||
    !Number.isInteger(target.port) || target.port < 1 || target.port > 65_535
  ) {
    throw new InvalidArgumentError(
      `Invalid gateway target '${name}': expected { host, port } with a port in 1..65535, got ` +
        `host ${String(target.host)} port ${String(target.port)}`,
    );
  }
  if (target.maxSessions !== undefined) count(target.maxSessions, 1, `targets.${name}.maxSessions`);
}

/** Validates `options` and fills in defaults. */
export function resolveGatewayOptions(options: GatewayOptions): ResolvedGatewayOptions {
  if (options === null || typeof options !== "object") {
    throw new InvalidArgumentError(`new Gateway: expected an options object`);
  }
  const entries = options.targets instanceof Map
    ? [...options.targets.entries()]
    : Object.entries(options.targets ?? {});
  const targets = new Map<string, GatewayTarget>();
  for (const [name, target] of entries) {
    checkTarget(name, target);
    if (!("connect" in target) && options.connect === undefined) {
      throw new InvalidArgumentError(
        `Invalid gateway target '${name}': a { host, port } target needs GatewayOptions.connect`,
      );
    }
    targets.set(name, target);
  }
  if (targets.size === 0) throw new InvalidArgumentError(`new Gateway: no targets configured`);
  const origins = options.allowedOrigins;
  if (!Array.isArray(origins) || origins.some((origin) => typeof origin !== "string")) {
    throw new InvalidArgumentError(
      `new Gateway: allowedOrigins must be an array of origins (e.g. "https://app.example.com")`,
    );
  }
  const pathPrefix = options.pathPrefix ?? defaultGatewayOptions.pathPrefix;
  if (typeof pathPrefix !== "string" || !pathPrefix.startsWith("/") || !pathPrefix.endsWith("/")) {
    throw new InvalidArgumentError(
      `new Gateway: pathPrefix must start and end with "/", got ${String(pathPrefix)}`,
    );
  }
  if (options.token !== undefined && options.authenticate !== undefined) {
    throw new InvalidArgumentError(`new Gateway: give token or authenticate, not both`);
  }
  const d = defaultGatewayOptions;
  return {
    targets,
    allowedOrigins: new Set(origins.filter((origin) => origin !== "*")),
    anyOrigin: origins.includes("*"),
    allowMissingOrigin: options.allowMissingOrigin === true,
    pathPrefix,
    authenticate: options.authenticate ??
      (options.token === undefined ? undefined : bearerTokenAuthenticator(options.token)),
    authTimeoutMs: count(options.authTimeoutMs, d.authTimeoutMs, "authTimeoutMs"),
    maxConnections: count(options.maxConnections, d.maxConnections, "maxConnections"),
    maxConnectionsPerIp: count(
      options.maxConnectionsPerIp,
      d.maxConnectionsPerIp,
      "maxConnectionsPerIp",
    ),
    maxFrameLength: count(
      options.maxFrameLength,
      d.maxFrameLength,
      "maxFrameLength",
      MIN_FRAME_LENGTH,
    ),
    allowUpload: options.allowUpload === true,
    maxInFlightRequests: count(
      options.maxInFlightRequests,
      d.maxInFlightRequests,
      "maxInFlightRequests",
    ),
    maxRequestBytesInFlight: count(
      options.maxRequestBytesInFlight,
      d.maxRequestBytesInFlight,
      "maxRequestBytesInFlight",
    ),
    highWaterMark: count(options.highWaterMark, d.highWaterMark, "highWaterMark", 0),
    maxBufferedBytes: count(options.maxBufferedBytes, d.maxBufferedBytes, "maxBufferedBytes"),
    slowConsumerTimeoutMs: count(
      options.slowConsumerTimeoutMs,
      d.slowConsumerTimeoutMs,
      "slowConsumerTimeoutMs",
      0,
    ),
    idleTimeoutMs: count(options.idleTimeoutMs, d.idleTimeoutMs, "idleTimeoutMs", 0),
    clock: options.clock ?? systemClock,
  };
}
