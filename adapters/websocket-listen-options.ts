/**
 * WebSocket listener options shared by every runtime (`adapters/node/ws-listen.ts`,
 * `adapters/deno/ws-listen.ts`), their validation, and the upgrade decision both listeners make.
 * Web-platform types only; no runtime code here.
 *
 * @module
 */

import { InvalidArgumentError } from "../src/errors.ts";
import { ConnectionAdmission, type ConnectionCaps } from "../src/server/connection-admission.ts";
import { checkTcpListenOptions, type TcpListenOptions } from "./tcp-options.ts";
import type { UpgradeRequest } from "./websocket-upgrade-request.ts";

/**
 * Options every runtime's `webSocketListen` accepts; runtimes add their own.
 *
 * Connection caps (`maxConnections`, `maxConnectionsPerAddress`, defaults in `defaultLimits`)
 * count this listener's WebSockets; an upgrade over a cap gets HTTP 503 before it is upgraded.
 */
export interface WebSocketListenCommonOptions extends TcpListenOptions, ConnectionCaps {
  /** Only upgrade requests for this path (default: any path). */
  readonly path?: string;
  /**
   * Pages (exact `Origin` values, e.g. `https://app.example.com`; `"*"` = any, development only)
   * that may open WebSockets here; an upgrade with any other Origin gets 403, as the gateway's.
   * Default none: no web page can reach this listener, so a page a user visits cannot use a
   * server on their machine. Checked before `allowUpgrade`.
   */
  readonly allowedOrigins?: readonly string[];
  /** Accept upgrades without an Origin header (non-browser clients). Default true. */
  readonly allowMissingOrigin?: boolean;
  /** Return false to refuse an upgrade with 403 (checked after the Origin allowlist). */
  readonly allowUpgrade?: (request: UpgradeRequest) => boolean;
  /** Serves requests that are not upgrades (default: 426 "speaks WebSocket only"). */
  readonly onRequest?: (request: Request) => Response | Promise<Response>;
  /** How often the peer is pinged, in ms (0 = never, default); each runtime says how. */
  readonly pingIntervalMs?: number;
}

/**
 * Checks the common `webSocketListen` options (TCP listen options included); throws
 * `InvalidArgumentError` naming the bad value. Returns them with defaults applied.
 */
export function checkWebSocketListenOptions(options: WebSocketListenCommonOptions, what: string) {
  const checked = checkTcpListenOptions(options, what);
  const path = options.path;
  if (path !== undefined && (typeof path !== "string" || !path.startsWith("/"))) {
    throw new InvalidArgumentError(`${what}: path must start with "/", received ${path}`);
  }
  const onRequest = options.onRequest;
  if (onRequest !== undefined && typeof onRequest !== "function") {
    throw new InvalidArgumentError(`${what}: onRequest must be a function`);
  }
  const pingIntervalMs = options.pingIntervalMs ?? 0;
  if (!Number.isSafeInteger(pingIntervalMs) || pingIntervalMs < 0) {
    throw new InvalidArgumentError(
      `${what}: pingIntervalMs must be a non-negative integer, received ${pingIntervalMs}`,
    );
  }
  const origins = options.allowedOrigins ?? [];
  if (!Array.isArray(origins) || origins.some((origin) => typeof origin !== "string")) {
    throw new InvalidArgumentError(
      `${what}: allowedOrigins must be an array of origins (e.g. "https://app.example.com")`,
    );
  }
  const allowMissingOrigin = options.allowMissingOrigin ?? true;
  if (typeof allowMissingOrigin !== "boolean") {
    throw new InvalidArgumentError(`${what}: allowMissingOrigin must be a boolean`);
  }
  const allowUpgrade = options.allowUpgrade;
  if (allowUpgrade !== undefined && typeof allowUpgrade !== "function") {
    throw new InvalidArgumentError(`${what}: allowUpgrade must be a function`);
  }
  const caps: ConnectionCaps = {
    ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
    ...(options.maxConnectionsPerAddress === undefined
      ? {}
      : { maxConnectionsPerAddress: options.maxConnectionsPerAddress }),
  };
  new ConnectionAdmission(caps, what); // validates the caps now, not at the first connection
  const originPolicy: OriginPolicy = {
    any: origins.includes("*"),
    allowed: new Set(origins),
    allowMissing: allowMissingOrigin,
  };
  return {
    ...checked,
    path,
    onRequest,
    pingIntervalMs,
    /** Whether `upgrade` may be upgraded: its Origin, then `allowUpgrade`. */
    admitUpgrade: (upgrade: UpgradeRequest) => upgradeAllowed(originPolicy, allowUpgrade, upgrade),
    /** The caps of one bound listener (each bind counts its own connections). */
    newAdmission: () => new ConnectionAdmission(caps, what),
  };
}

interface OriginPolicy {
  readonly any: boolean;
  readonly allowed: ReadonlySet<string>;
  readonly allowMissing: boolean;
}

/**
 * The gateway's Origin rules: a missing Origin (not a browser) per `allowMissing`; otherwise an
 * exact match or `"*"`. Then `allowUpgrade`: no hook admits; a hook that throws refuses.
 */
function upgradeAllowed(
  origins: OriginPolicy,
  allowUpgrade: ((request: UpgradeRequest) => boolean) | undefined,
  upgrade: UpgradeRequest,
): boolean {
  const origin = upgrade.origin;
  const originOk = origin === undefined
    ? origins.allowMissing
    : origins.any || origins.allowed.has(origin);
  if (!originOk) return false;
  if (allowUpgrade === undefined) return true;
  try {
    return allowUpgrade(upgrade);
  } catch {
    return false;
  }
}
