/**
 * Connection caps of a server or listener: at most `maxConnections` at once, and at most
 * `maxConnectionsPerAddress` from one remote IP address (any port). A connection is charged here
 * before anything is allocated for it (no client, no decoder, no upgrade) and released when it
 * ends; one over a cap is refused, and the refusal is counted. Web-platform only: the
 * `TransportServer` and the WebSocket listeners of every runtime use it.
 *
 * @module
 */

import { LimitError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import { positiveInteger } from "../options.ts";

/** Connection caps; both default to `defaultLimits`. */
export interface ConnectionCaps {
  /** Connections at once (default `defaultLimits.maxConnections`). */
  readonly maxConnections?: number;
  /** Connections at once from one IP address (default `defaultLimits.maxConnectionsPerAddress`). */
  readonly maxConnectionsPerAddress?: number;
}

/** Which cap refused a connection. */
export type ConnectionCap = "maxConnections" | "maxConnectionsPerAddress";

/** Counters of a {@linkcode ConnectionAdmission}. */
export interface ConnectionAdmissionStats {
  /** Connections charged right now. */
  readonly open: number;
  /** Connections refused because `maxConnections` was reached. */
  readonly refusedTotal: number;
  /** Connections refused because their address had `maxConnectionsPerAddress`. */
  readonly refusedPerAddress: number;
}

/**
 * WebSocket close code a refused, already-upgraded connection is closed with: 1013 "try again
 * later", as the gateway's caps. Listeners that see the upgrade request answer HTTP 503 instead.
 *
 * @example
 * ```ts
 * import { CONNECTION_CAP_CLOSE_CODE } from "ferry-transport";
 *
 * const socket = new WebSocket("ws://127.0.0.1:8080/ferry");
 * socket.addEventListener("close", (event) => {
 *   if (event.code === CONNECTION_CAP_CLOSE_CODE) console.log("server full: retry later");
 * });
 * ```
 */
export const CONNECTION_CAP_CLOSE_CODE = 1013;

/**
 * A connection refused by a cap. `closeCode` (1013) rides on the error: a WebSocket socket closed
 * with it sends that code; a TCP or TLS socket is simply closed unread.
 *
 * @example
 * ```ts
 * import { ConnectionCapError, TransportServer } from "ferry-transport";
 *
 * const server = new TransportServer({
 *   rpcHandler: { receive: (_client, body) => body },
 *   maxConnections: 1_000,
 *   maxConnectionsPerAddress: 16,
 * });
 * // Refusals are counted, and a refused WebSocket is closed with the error's code:
 * const refused = new ConnectionCapError("maxConnections", "1000 connections are open");
 * console.log(refused.cap, refused.closeCode); // "maxConnections" 1013
 * await server.close();
 * ```
 */
export class ConnectionCapError extends LimitError {
  readonly closeCode = CONNECTION_CAP_CLOSE_CODE;
  readonly cap: ConnectionCap;
  constructor(cap: ConnectionCap, message: string) {
    super(message);
    this.cap = cap;
  }
}

export class ConnectionAdmission {
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  readonly #what: string;
  readonly #perAddress = new Map<string, number>();
  #open = 0;
  #refusedTotal = 0;
  #refusedPerAddress = 0;

  /** `what` names the owner in refusals, e.g. `TransportServer` or `webSocketListen`. */
  constructor(caps: ConnectionCaps, what: string) {
    this.#what = what;
    this.maxConnections = cap(
      caps.maxConnections,
      defaultLimits.maxConnections,
      what,
      "maxConnections",
    );
    this.maxConnectionsPerAddress = cap(
      caps.maxConnectionsPerAddress,
      defaultLimits.maxConnectionsPerAddress,
      what,
      "maxConnectionsPerAddress",
    );
  }

  /**
   * Charges one connection from `remoteAddress` (`host:port`, `[v6]:port` or a bare host).
   * Returns the function that releases it (idempotent), or a `ConnectionCapError` when a cap is
   * reached (counted; nothing is charged).
   */
  admit(remoteAddress: string): (() => void) | ConnectionCapError {
    const refused = this.charge(remoteAddress);
    if (refused !== undefined) return refused;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.discharge(remoteAddress);
    };
  }

  /**
   * `admit` without the release function (a closure per connection, which a server holding
   * thousands of idle connections notices): the caller passes the same `remoteAddress` to
   * `discharge` exactly once (it already holds that string: no other is kept per connection).
   * Returns a `ConnectionCapError` when a cap is reached (counted; nothing is charged).
   */
  charge(remoteAddress: string): ConnectionCapError | undefined {
    const address = remoteIp(remoteAddress);
    if (this.#open >= this.maxConnections) {
      this.#refusedTotal++;
      return new ConnectionCapError(
        "maxConnections",
        `${this.#what} refused a connection from ${remoteAddress}: ${this.#open} connections ` +
          `open (maxConnections ${this.maxConnections})`,
      );
    }
    const fromAddress = this.#perAddress.get(address) ?? 0;
    if (fromAddress >= this.maxConnectionsPerAddress) {
      this.#refusedPerAddress++;
      return new ConnectionCapError(
        "maxConnectionsPerAddress",
        `${this.#what} refused a connection from ${remoteAddress}: ${fromAddress} connections ` +
          `open from ${address} (maxConnectionsPerAddress ${this.maxConnectionsPerAddress})`,
      );
    }
    this.#open++;
    this.#perAddress.set(address, fromAddress + 1);
    return undefined;
  }

  /** Releases one connection `charge` charged for `remoteAddress` (call once per charge). */
  discharge(remoteAddress: string): void {
    const address = remoteIp(remoteAddress);
    this.#open--;
    const left = (this.#perAddress.get(address) ?? 1) - 1;
    if (left <= 0) this.#perAddress.delete(address);
    else this.#perAddress.set(address, left);
  }

  stats(): ConnectionAdmissionStats {
    return {
      open: this.#open,
      refusedTotal: this.#refusedTotal,
      refusedPerAddress: this.#refusedPerAddress,
    };
  }
}

/** The IP part of `host:port` / `[v6]:port`; anything else as it is. */
export function remoteIp(remoteAddress: string): string {
  if (remoteAddress.startsWith("[")) {
    const close = remoteAddress.indexOf("]");
    return close < 0 ? remoteAddress : remoteAddress.slice(1, close);
  }
  const colon = remoteAddress.indexOf(":");
  // One colon: host:port. More: a bare IPv6 address (no port to strip).
  return colon >= 0 && colon === remoteAddress.lastIndexOf(":")
    ? remoteAddress.slice(0, colon)
    : remoteAddress;
}

function cap(value: number | undefined, fallback: number, what: string, name: string): number {
  return positiveInteger(value ?? fallback, `${what} option ${name}`);
}
