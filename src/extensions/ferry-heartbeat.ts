/**
 * Ferry ⇄ Ferry heartbeat (an optional extension): detects a half-open connection — a peer that
 * died without a FIN or RST, a path that silently drops everything — within `intervalMs ×
 * (1 + HEARTBEAT_JITTER) + timeoutMs`, even while nothing else is in flight.
 *
 * About every `intervalMs` the client sends a Ferry ping (`ferry-ping.ts`: an RpcRequest with a
 * control body that a Ferry server answers in its interceptor, never calling the application's
 * handler). A ping not answered within `timeoutMs` closes the connection with a `TimeoutError`, so
 * everything in flight fails at once and the pool replaces it. One timer and at most one ping in
 * flight per connection. Each wait is `intervalMs` ± {@linkcode HEARTBEAT_JITTER} at random, so
 * thousands of connections opened together (a client process reconnecting, a bench) drift apart
 * instead of pinging their server in one burst every interval: 10 000 pings at once cost the
 * server's other clients a 25× p99 in the `scale` bench row.
 *
 * A plain Spark server would hand the ping to its handler, so the heartbeat runs only where the
 * peer is known to be Ferry: call {@linkcode startFerryHeartbeat} yourself for such a peer, or let
 * {@linkcode ferryHeartbeatBootstrap} start it on pooled connections whose `peerFeatures` contain
 * `"ferry"` (configured per route, or learned by Ferry's authentication). Where the server side
 * runs the heartbeat is up to the client; the server's idle deadline cleans up after clients that
 * vanish. Both waits (between pings, and for a pong) are timers of the injectable `Clock`
 * (`options.clock`, default `systemClock`), so tests drive them by hand.
 *
 * @module
 */

import type { TransportClient } from "../client/transport-client.ts";
import { type Clock, systemClock, type TimerHandle } from "../clock.ts";
import { describeError, InvalidArgumentError, TimeoutError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import { observeHeartbeat } from "../observability/observe.ts";
import type { ClientBootstrap } from "../pool/pool-options.ts";
import { FERRY_PEER_FEATURE } from "./ferry-peer.ts";
import { ferryPing } from "./ferry-ping.ts";

export interface FerryHeartbeatOptions {
  /** Time between pings. Default `defaultLimits.heartbeatIntervalMs`. */
  readonly intervalMs?: number;
  /** A ping unanswered this long closes the connection. Default `defaultLimits.heartbeatTimeoutMs`. */
  readonly timeoutMs?: number;
  /** The clock both waits run on (default `systemClock`); tests pass a hand-driven one. */
  readonly clock?: Clock;
}

/** Stops a heartbeat (idempotent); it also stops by itself when the connection closes. */
export type StopHeartbeat = () => void;

/** The most a wait between pings differs from `intervalMs`, as a fraction of it (±15 %). */
export const HEARTBEAT_JITTER = 0.15;

/**
 * One wait between pings: `intervalMs` ± {@linkcode HEARTBEAT_JITTER}, drawn afresh each time
 * (`random` returns a number in [0, 1), as `Math.random`), at least 1 ms.
 */
export function jitteredIntervalMs(intervalMs: number, random: () => number = Math.random): number {
  const factor = 1 + HEARTBEAT_JITTER * (2 * random() - 1);
  return Math.max(1, Math.round(intervalMs * factor));
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved <= 0) {
    throw new InvalidArgumentError(
      `Invalid FerryHeartbeatOptions.${name}: expected a positive integer, got ${String(value)}`,
    );
  }
  return resolved;
}

function checkClock(clock: Clock | undefined): Clock {
  if (clock === undefined) return systemClock;
  if (
    clock === null || typeof clock.setTimer !== "function" ||
    typeof clock.clearTimer !== "function"
  ) {
    throw new InvalidArgumentError(
      `Invalid FerryHeartbeatOptions.clock: expected a Clock (setTimer, clearTimer), got ${
        clock === null ? "null" : typeof clock
      }`,
    );
  }
  return clock;
}

/**
 * Starts pinging `client`'s peer, which must be a Ferry server (it answers pings in an
 * interceptor: `ferryPingResponder`). A missed pong closes the connection with a `TimeoutError`
 * as the cause. Returns a function that stops it.
 *
 * @example
 * ```ts
 * import { TransportClient } from "ferry-transport";
 * import { startFerryHeartbeat } from "ferry-transport/extensions";
 * import { tcpConnect } from "ferry-transport/node";
 *
 * const client = await TransportClient.connect(tcpConnect({ host: "127.0.0.1", port: 7337 }));
 * // A ping about every 5 s; no pong within 2 s closes the connection (half-open detected).
 * const stop = startFerryHeartbeat(client, { intervalMs: 5_000, timeoutMs: 2_000 });
 * client.closed.then(({ error }) => console.log("closed", error));
 * stop();
 * await client.close();
 * ```
 */
export function startFerryHeartbeat(
  client: TransportClient,
  options: FerryHeartbeatOptions = {},
): StopHeartbeat {
  const intervalMs = positive(options.intervalMs, defaultLimits.heartbeatIntervalMs, "intervalMs");
  const timeoutMs = positive(options.timeoutMs, defaultLimits.heartbeatTimeoutMs, "timeoutMs");
  const clock = checkClock(options.clock);
  // One timer at a time: the wait before the next ping, or the wait for the pong of this one.
  let timer: TimerHandle | undefined;
  let stopped = false;
  const clear = () => {
    if (timer !== undefined) clock.clearTimer(timer);
    timer = undefined;
  };
  const stop = () => {
    stopped = true;
    clear();
  };
  const arm = () => {
    if (stopped || !client.isActive) return;
    timer = clock.setTimer(beat, jitteredIntervalMs(intervalMs));
  };
  const beat = () => {
    timer = undefined;
    if (stopped || !client.isActive) return;
    const started = performance.now();
    const pong = new AbortController();
    timer = clock.setTimer(() => {
      timer = undefined;
      pong.abort(
        new TimeoutError(
          `No Ferry pong from ${client.remoteAddress} within ${timeoutMs} ms`,
          timeoutMs,
        ),
      );
    }, timeoutMs);
    ferryPing(client, { signal: pong.signal }).then(() => {
      clear();
      if (stopped) return;
      observeHeartbeat(client.remoteAddress, started);
      arm();
    }, (error) => {
      clear();
      if (stopped || !client.isActive) return;
      observeHeartbeat(client.remoteAddress, started, error);
      stop();
      client.close(
        new TimeoutError(
          `Heartbeat to ${client.remoteAddress} failed: no pong within ${timeoutMs} ms ` +
            `(${describeError(error)}); the connection is presumed dead (half-open)`,
          timeoutMs,
          { cause: error },
        ),
      ).catch(() => {});
    });
  };
  client.closed.then(stop);
  arm();
  return stop;
}

/**
 * A pool bootstrap that starts the heartbeat on connections to peers known to be Ferry (their
 * `peerFeatures` contain `"ferry"`), and does nothing for any other peer. List it after the
 * bootstrap that authenticates (which is how a peer may become known as Ferry).
 *
 * @example
 * ```ts
 * import { sharedSecretBootstrap, TransportClient } from "ferry-transport";
 * import { ConnectionPool, type Route } from "ferry-transport/pool";
 * import { ferryHeartbeatBootstrap } from "ferry-transport/extensions";
 * import { tcpConnect } from "ferry-transport/node";
 *
 * const address = (route: Route) =>
 *   typeof route === "string" ? { host: route, port: 7337 } : route;
 * const pool = new ConnectionPool({
 *   connector: (route, options) => TransportClient.connect(tcpConnect(address(route)), options),
 *   bootstraps: [
 *     sharedSecretBootstrap({ principal: "app-1", secret: "at least sixteen bytes of secret" }),
 *     ferryHeartbeatBootstrap({ intervalMs: 10_000, timeoutMs: 5_000 }), // Ferry peers only
 *   ],
 * });
 * await pool.close();
 * ```
 */
export function ferryHeartbeatBootstrap(
  options: FerryHeartbeatOptions = {},
): ClientBootstrap<TransportClient> {
  positive(options.intervalMs, defaultLimits.heartbeatIntervalMs, "intervalMs");
  positive(options.timeoutMs, defaultLimits.heartbeatTimeoutMs, "timeoutMs");
  checkClock(options.clock);
  return (client, context) => {
    if (context.peerFeatures.has(FERRY_PEER_FEATURE)) startFerryHeartbeat(client, options);
  };
}
