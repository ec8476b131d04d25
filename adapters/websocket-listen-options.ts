/**
 * WebSocket listener options shared by every runtime (`adapters/node/ws-listen.ts`,
 * `adapters/deno/ws-listen.ts`), their validation, and the upgrade decision both listeners make.
 * Web-platform types only; no runtime code here.
 *
 * @module
 */

import { InvalidArgumentError } from "../src/errors.ts";
import { checkTcpListenOptions, type TcpListenOptions } from "./tcp-options.ts";
import type { UpgradeRequest } from "./websocket-upgrade-request.ts";

/** Options every runtime's `webSocketListen` accepts; runtimes add their own. */
export interface WebSocketListenCommonOptions extends TcpListenOptions {
  /** Only upgrade requests for this path (default: any path). */
  readonly path?: string;
  /** Return false to refuse an upgrade with 403 (e.g. an Origin check). */
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
  return { ...checked, path, allowUpgrade: options.allowUpgrade, onRequest, pingIntervalMs };
}

/** Whether `allowUpgrade` admits `upgrade`: no hook admits all; a hook that throws refuses. */
export function upgradeAllowed(
  allowUpgrade: ((request: UpgradeRequest) => boolean) | undefined,
  upgrade: UpgradeRequest,
): boolean {
  if (allowUpgrade === undefined) return true;
  try {
    return allowUpgrade(upgrade);
  } catch {
    return false;
  }
}
