/**
 * `Gateway`: lets browsers reach TCP transport servers (Ferry or plain Spark) over WebSockets.
 *
 * A browser opens a WebSocket at `<pathPrefix><target>` (default `/gateway/<target>`). The target
 * is a name from the server-side configuration, looked up by exact string in a `Map` — never
 * decoded, never parsed as an address — so nothing a browser sends (host:port in the path, query
 * or subprotocol, IP literals in any notation, percent-encoding, Unicode look-alikes) can make the
 * gateway connect anywhere unconfigured; an unknown name is refused (4404) before any outbound
 * connect.
 *
 * Order of checks: Origin (exact match against `allowedOrigins`, before the upgrade: 403 from
 * `allowUpgrade`) → path and target (4404) → caps: total, per IP, per target (1013) →
 * authentication when configured (first message, within `authTimeoutMs`: 4401 / 4408) → a backend
 * connection leased from the gateway's `ConnectionPool` (bootstraps such as backend
 * authentication and the Ferry heartbeat run first; failure 4502). The session then proxies
 * messages with backpressure both ways (see `gateway-session.ts`; close codes in
 * `close-codes.ts`).
 *
 * Use it on a listener of its own (`startNodeGateway` / `startDenoGateway`) or on a shared one:
 *
 * ```ts
 * const gateway = new Gateway({ targets: { shuffle: { host: "10.0.0.5", port: 7337 } },
 *   connect: tcpConnect, allowedOrigins: ["https://app.example.com"], token });
 * webSocketListen({ allowedOrigins: ["https://app.example.com"],
 *   allowUpgrade: (r) => gateway.allowUpgrade(r) || r.url === "/ferry", ... })
 * // in onSocket(socket, { upgrade }): if (gateway.handles(upgrade)) gateway.accept(socket, upgrade)
 * ```
 *
 * @module
 */

import type { TransportClient } from "../client/transport-client.ts";
import { InvalidArgumentError } from "../errors.ts";
import { ferryHeartbeatBootstrap } from "../extensions/ferry-heartbeat.ts";
import { ConnectionPool } from "../pool/connection-pool.ts";
import type { PoolLease } from "../pool/pool-lease.ts";
import type { RouteOptions } from "../pool/pool-options.ts";
import type { PoolStats } from "../pool/pool-stats.ts";
import type { Socket, UpgradeRequest } from "../socket.ts";
import { backendConnector, type BackendSocket } from "./backend-socket.ts";
import {
  GatewayCloseCode,
  GatewayClosedError,
  type GatewayRefusalReason,
  gatewayRefusalReasons,
} from "./close-codes.ts";
import {
  defaultGatewayOptions,
  type GatewayEvent,
  type GatewayOptions,
  type GatewayTarget,
  type ResolvedGatewayOptions,
  resolveGatewayOptions,
} from "./gateway-options.ts";
import { GatewaySession, type SessionHost } from "./gateway-session.ts";
import { observeGateway } from "../observability/observe.ts";

/** Counters of a gateway, on demand. */
export interface GatewayStats {
  readonly sessions: { readonly open: number; readonly total: number };
  /**
   * Bytes received from browsers and sent to them (WebSocket payload bytes), and bytes queued
   * towards browsers right now (replies waiting, and in the sockets' buffers).
   */
  readonly bytes: {
    readonly fromBrowsers: number;
    readonly toBrowsers: number;
    readonly queuedForBrowsers: number;
  };
  /** Refusals and session ends by reason (connection attempts and sessions both counted). */
  readonly refusals: Readonly<Record<GatewayRefusalReason, number>>;
  /** Open sessions per target. */
  readonly targets: Readonly<Record<string, number>>;
  /** The backend pool (connections per target, waiters, ...). */
  readonly pool: PoolStats;
}

/**
 * The gateway: each browser WebSocket session at `<pathPrefix><target>` is relayed to one backend
 * TCP connection of a configured target, after the Origin check and the token.
 *
 * @example
 * ```ts
 * import { Gateway } from "ferry-transport/gateway";
 * import { tcpConnect } from "ferry-transport/node";
 *
 * // The runtime-neutral core; startNodeGateway / startDenoGateway run it on a listening port.
 * const gateway = new Gateway({
 *   targets: { files: { host: "127.0.0.1", port: 7337, peerFeatures: ["ferry"] } },
 *   connect: tcpConnect,
 *   allowedOrigins: ["https://app.example.com"],
 *   token: "a bearer token for the pages",
 * });
 * console.log(gateway.stats());
 * await gateway.close();
 * ```
 */
export class Gateway implements SessionHost {
  readonly options: ResolvedGatewayOptions;
  readonly #pool: ConnectionPool<TransportClient>;
  readonly #sessions = new Set<GatewaySession>();
  /** The socket under each backend client, so a session learns when its backend drains. */
  readonly #backendSockets = new WeakMap<TransportClient, BackendSocket>();
  readonly #perIp = new Map<string, number>();
  readonly #perTarget = new Map<string, number>();
  readonly #refusals = new Map<GatewayRefusalReason, number>();
  readonly #onEvent: ((event: GatewayEvent) => void) | undefined;
  readonly #connectTimeoutMs: number;
  #total = 0;
  #bytesIn = 0;
  #bytesOut = 0;
  #closing: Promise<void> | undefined;

  constructor(options: GatewayOptions) {
    const resolved = this.options = resolveGatewayOptions(options);
    this.#onEvent = observeGateway(this, options.onEvent);
    const backend = options.backend ?? {};
    this.#connectTimeoutMs = backend.connectTimeoutMs ??
      defaultGatewayOptions.backendConnectTimeoutMs;
    const routes: Record<string, RouteOptions> = Object.create(null);
    for (const [name, target] of resolved.targets) {
      routes[name] = {
        maxPerRoute: target.maxSessions ?? resolved.maxConnections,
        ...(target.peerFeatures ? { peerFeatures: target.peerFeatures } : {}),
      };
    }
    const connectOf = options.connect;
    const connectFor = (route: unknown) => {
      const target = typeof route === "string" ? resolved.targets.get(route) : undefined;
      if (target === undefined) {
        throw new InvalidArgumentError(`Gateway: no configured target ${String(route)}`);
      }
      return "connect" in target
        ? target.connect
        : connectOf!({ host: target.host, port: target.port });
    };
    this.#pool = new ConnectionPool<TransportClient>({
      connector: backendConnector(
        connectFor,
        { clock: resolved.clock, ...backend.clientOptions },
        (client, socket) => this.#backendSockets.set(client, socket),
      ),
      clock: resolved.clock,
      maxTotal: resolved.maxConnections,
      maxPerRoute: resolved.maxConnections,
      maxStreamsPerConnection: 1,
      connectTimeoutMs: this.#connectTimeoutMs,
      leaseTimeoutMs: this.#connectTimeoutMs,
      bootstrapTimeoutMs: this.#connectTimeoutMs,
      validateAfterInactivityMs: 0,
      idleTimeoutMs: 0,
      routes,
      bootstraps: [
        ...(backend.bootstraps ?? []),
        ...(backend.heartbeat === false
          ? []
          : [ferryHeartbeatBootstrap({ clock: resolved.clock, ...backend.heartbeat })]),
      ],
    });
  }

  /** Whether `request` is addressed to this gateway (its path starts with `pathPrefix`). */
  handles(request: UpgradeRequest): boolean {
    return pathOf(request.url).startsWith(this.options.pathPrefix);
  }

  /**
   * The check before the upgrade: true when the path is the gateway's and the Origin is allowed.
   * A refusal is counted; the listener answers it with 403.
   */
  allowUpgrade(request: UpgradeRequest): boolean {
    const refusal = this.#checkUpgrade(request);
    if (refusal === undefined) return true;
    this.#refuse(refusal, request.remoteAddress);
    return false;
  }

  /**
   * Takes an upgraded browser WebSocket. Checks everything again (a shared listener may not have
   * called `allowUpgrade`), then the target and the caps, and starts the session. Never throws: a
   * refusal closes `socket` with its close code.
   */
  accept(socket: Socket, request: UpgradeRequest): void {
    const refuse = (code: GatewayCloseCode, reason: GatewayRefusalReason, message: string) => {
      this.#refuse(reason, request.remoteAddress, code);
      socket.close(new GatewayClosedError(code, reason, message));
    };
    if (this.#closing !== undefined) {
      return refuse(GatewayCloseCode.GoingAway, "shutting-down", "The gateway is shutting down");
    }
    const refusal = this.#checkUpgrade(request);
    if (refusal !== undefined) {
      return refuse(GatewayCloseCode.PolicyViolation, refusal, `Refused: ${refusal}`);
    }
    const name = pathOf(request.url).slice(this.options.pathPrefix.length);
    const target: GatewayTarget | undefined = this.options.targets.get(name);
    if (target === undefined) {
      return refuse(GatewayCloseCode.UnknownTarget, "unknown-target", "Unknown gateway target");
    }
    const ip = ipOf(request.remoteAddress);
    const options = this.options;
    if (this.#sessions.size >= options.maxConnections) {
      return refuse(
        GatewayCloseCode.TryAgainLater,
        "connection-cap",
        `The gateway has ${options.maxConnections} sessions (maxConnections); try again later`,
      );
    }
    if ((this.#perIp.get(ip) ?? 0) >= options.maxConnectionsPerIp) {
      return refuse(
        GatewayCloseCode.TryAgainLater,
        "ip-cap",
        `Too many sessions from this address (maxConnectionsPerIp ${options.maxConnectionsPerIp})`,
      );
    }
    const targetCap = target.maxSessions ?? options.maxConnections;
    if ((this.#perTarget.get(name) ?? 0) >= targetCap) {
      return refuse(
        GatewayCloseCode.TryAgainLater,
        "target-cap",
        `Target '${name}' has ${targetCap} sessions (maxSessions); try again later`,
      );
    }
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1);
    this.#perTarget.set(name, (this.#perTarget.get(name) ?? 0) + 1);
    this.#total++;
    let session: GatewaySession;
    try {
      session = new GatewaySession(socket, name, request, this);
    } catch (error) {
      this.#release(name, ip);
      socket.close(error);
      return;
    }
    this.#sessions.add(session);
    this.#onEvent?.({ type: "session-open", target: name, remoteAddress: request.remoteAddress });
  }

  /** Counters right now. */
  stats(): GatewayStats {
    const refusals = {} as Record<GatewayRefusalReason, number>;
    for (const reason of gatewayRefusalReasons) refusals[reason] = this.#refusals.get(reason) ?? 0;
    return {
      sessions: { open: this.#sessions.size, total: this.#total },
      bytes: {
        fromBrowsers: this.#bytesIn,
        toBrowsers: this.#bytesOut,
        queuedForBrowsers: [...this.#sessions].reduce((sum, session) => sum + session.buffered, 0),
      },
      refusals,
      targets: Object.fromEntries(this.#perTarget),
      pool: this.#pool.stats(),
    };
  }

  /** Ends every session with 1001 and closes the backend pool. Idempotent. */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      for (const session of [...this.#sessions]) {
        session.close(
          new GatewayClosedError(
            GatewayCloseCode.GoingAway,
            "shutting-down",
            "The gateway is shutting down",
          ),
        );
      }
      await this.#pool.close();
    })();
  }

  // SessionHost
  lease(target: string): Promise<PoolLease<TransportClient>> {
    return this.#pool.lease(target, { timeoutMs: this.#connectTimeoutMs });
  }

  backendSocket(client: TransportClient): BackendSocket | undefined {
    return this.#backendSockets.get(client);
  }

  countIn(bytes: number): void {
    this.#bytesIn += bytes;
  }

  countOut(bytes: number): void {
    this.#bytesOut += bytes;
  }

  ended(session: GatewaySession, error: unknown): void {
    if (!this.#sessions.delete(session)) return;
    this.#release(session.target, ipOf(session.request.remoteAddress));
    const closed = error instanceof GatewayClosedError ? error : undefined;
    if (closed !== undefined) this.#count(closed.reason);
    this.#onEvent?.({
      type: "session-close",
      target: session.target,
      remoteAddress: session.request.remoteAddress,
      ...(closed ? { closeCode: closed.closeCode, reason: closed.reason } : {}),
    });
  }

  #checkUpgrade(request: UpgradeRequest): GatewayRefusalReason | undefined {
    if (!this.handles(request)) return "path";
    const origin = request.origin;
    const options = this.options;
    if (origin === undefined) return options.allowMissingOrigin ? undefined : "origin";
    if (options.anyOrigin || options.allowedOrigins.has(origin)) return undefined;
    return "origin";
  }

  #release(target: string, ip: string): void {
    decrement(this.#perIp, ip);
    decrement(this.#perTarget, target);
  }

  #count(reason: GatewayRefusalReason): void {
    this.#refusals.set(reason, (this.#refusals.get(reason) ?? 0) + 1);
  }

  #refuse(reason: GatewayRefusalReason, remoteAddress: string, closeCode?: number): void {
    this.#count(reason);
    this.#onEvent?.({
      type: "refused",
      remoteAddress,
      reason,
      ...(closeCode === undefined ? {} : { closeCode }),
    });
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const value = (map.get(key) ?? 1) - 1;
  if (value <= 0) map.delete(key);
  else map.set(key, value);
}

/** The path of a request target, without query or fragment; never decoded. */
function pathOf(url: string): string {
  const end = url.search(/[?#]/);
  return end < 0 ? url : url.slice(0, end);
}

/** The IP part of `host:port` / `[v6]:port`. */
function ipOf(remoteAddress: string): string {
  if (remoteAddress.startsWith("[")) {
    const close = remoteAddress.indexOf("]");
    return close < 0 ? remoteAddress : remoteAddress.slice(1, close);
  }
  const colon = remoteAddress.lastIndexOf(":");
  return colon < 0 ? remoteAddress : remoteAddress.slice(0, colon);
}
