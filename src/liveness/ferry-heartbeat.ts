/**
 * Ferry ⇄ Ferry heartbeat (an optional extension): detects a half-open connection — a peer that
 * died without a FIN or RST, a path that silently drops everything — within `intervalMs ×
 * (1 + HEARTBEAT_JITTER) + timeoutMs`, even while nothing else is in flight.
 *
 * About every `intervalMs` the client sends a Ferry ping (`src/client/ferry-ping.ts`: an RpcRequest with a
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
 * vanish.
 *
 * @module
 */

import type { TransportClient } from "../client/transport-client.ts";
import { unrefTimer } from "../deadline.ts";
import { describeError, InvalidArgumentError, TimeoutError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import { FERRY_PEER_FEATURE, ferryPing } from "../client/ferry-ping.ts";
import type { ClientBootstrap } from "../pool/pool-options.ts";
import { observeHeartbeat } from "../observability/observe.ts";

export interface FerryHeartbeatOptions {
  /** Time between pings. Default `defaultLimits.heartbeatIntervalMs`. */
  readonly intervalMs?: number;
  /** A ping unanswered this long closes the connection. Default `defaultLimits.heartbeatTimeoutMs`. */
  readonly timeoutMs?: number;
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

/**
 * Starts pinging `client`'s peer, which must be a Ferry server (it answers pings in an
 * interceptor). A missed pong closes the connection with a `TimeoutError` as the cause.
 */
export function startFerryHeartbeat(
  client: TransportClient,
  options: FerryHeartbeatOptions = {},
): StopHeartbeat {
  const intervalMs = positive(options.intervalMs, defaultLimits.heartbeatIntervalMs, "intervalMs");
  const timeoutMs = positive(options.timeoutMs, defaultLimits.heartbeatTimeoutMs, "timeoutMs");
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const stop = () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const arm = () => {
    if (stopped || !client.isActive) return;
    timer = setTimeout(beat, jitteredIntervalMs(intervalMs));
    unrefTimer(timer);
  };
  const beat = () => {
    timer = undefined;
    if (stopped || !client.isActive) return;
    const started = performance.now();
    ferryPing(client, { timeoutMs }).then(() => {
      observeHeartbeat(client.remoteAddress, started);
      arm();
    }, (error) => {
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
 */
export function ferryHeartbeatBootstrap(
  options: FerryHeartbeatOptions = {},
): ClientBootstrap<TransportClient> {
  positive(options.intervalMs, defaultLimits.heartbeatIntervalMs, "intervalMs");
  positive(options.timeoutMs, defaultLimits.heartbeatTimeoutMs, "timeoutMs");
  return (client, context) => {
    if (context.peerFeatures.has(FERRY_PEER_FEATURE)) startFerryHeartbeat(client, options);
  };
}
