/**
 * Routes: what the pool keys its connections by.
 *
 * A route is either a string the caller chooses (`"shuffle-1:7337"`, `"tcp://10.0.0.5:7337"`,
 * `"backend-a"`) or a `{ host, port }` address. Either way the pool reduces it to a stable string
 * key — the string itself, or `host:port` (`[v6addr]:port` for IPv6 literals, host lower-cased) —
 * and everything per route (limits, connections, waiters, stats, backoff, byte budget) hangs off
 * that key. Two routes with the same key are the same peer.
 *
 * The pool never interprets a route: the injected connector receives the route value that first
 * created the key's state (so `{ host, port }` reaches the connector as an object) and decides how
 * to reach it.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** A peer named by host and port. */
export interface RouteAddress {
  readonly host: string;
  readonly port: number;
}

/** What callers pass to the pool: an opaque non-empty string key or a host/port address. */
export type Route = string | RouteAddress;

/**
 * The stable string key of a route; throws `InvalidArgumentError` for an unusable route.
 *
 * @example
 * ```ts
 * import { routeKey } from "ferry-transport/pool";
 *
 * const a = routeKey({ host: "127.0.0.1", port: 7337 });
 * console.log(a === routeKey({ port: 7337, host: "127.0.0.1" })); // true
 * console.log(routeKey("executor-1"));
 * ```
 */
export function routeKey(route: Route): string {
  if (typeof route === "string") {
    if (route.length === 0) {
      throw new InvalidArgumentError("Cannot use a pool route: the route string is empty");
    }
    return route;
  }
  if (typeof route !== "object" || route === null) {
    throw new InvalidArgumentError(
      `Cannot use a pool route: expected a string or { host, port }, received ${typeof route}`,
    );
  }
  const { host, port } = route;
  if (typeof host !== "string" || host.length === 0) {
    throw new InvalidArgumentError(
      `Cannot use a pool route: host must be a non-empty string, received ${String(host)}`,
    );
  }
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new InvalidArgumentError(
      `Cannot use a pool route to ${host}: port must be an integer in 1..65535, received ${
        String(port)
      }`,
    );
  }
  const normalized = host.toLowerCase();
  return normalized.includes(":") && !normalized.startsWith("[")
    ? `[${normalized}]:${port}`
    : `${normalized}:${port}`;
}
