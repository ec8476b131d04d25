/**
 * TCP adapter options shared by every runtime (`adapters/node/tcp.ts`, `adapters/deno/tcp.ts`),
 * and their validation. No runtime code here.
 *
 * @module
 */

import { InvalidArgumentError } from "../src/errors.ts";
import { defaultLimits } from "../src/limits.ts";
import { checkTimeout } from "../src/deadline.ts";

/** Socket tuning shared by connect and listen. */
export interface TcpSocketOptions {
  /** Disable Nagle's algorithm (default true: Ferry writes whole frames). */
  readonly noDelay?: boolean;
  /** Enable TCP keep-alive probes (default true). */
  readonly keepAlive?: boolean;
  /** Idle time before the first keep-alive probe, in ms (OS default otherwise; Node only). */
  readonly keepAliveInitialDelayMs?: number;
  /** Buffered outbound bytes above which `write` returns false (default `writeHighWaterMark`). */
  readonly highWaterMark?: number;
  /** Deadline for a graceful close to finish before the socket is cut off (default 30 s). */
  readonly closeTimeoutMs?: number;
}

export interface TcpConnectOptions extends TcpSocketOptions {
  readonly host: string;
  readonly port: number;
  /** Default deadline for connecting when the caller gives none (default `connectTimeoutMs`). */
  readonly timeoutMs?: number;
}

export interface TcpListenOptions extends TcpSocketOptions {
  /** Interface to bind (default `127.0.0.1`). */
  readonly host?: string;
  /** Port to bind; 0 picks a free one (default 0). */
  readonly port?: number;
  /**
   * Length of the queue of connections the kernel has completed but the server not yet accepted.
   * Node: default 4096 (Node's own default, 511, overflows when ~1000 clients connect at once, and
   * each dropped SYN waits ~1 s for its retransmit). Deno: the runtime's default. The kernel caps
   * it (Linux: `net.core.somaxconn`, 4096 on current kernels).
   */
  readonly backlog?: number;
}

/** Default deadline for a graceful close to finish (flush + the peer's end). */
export const defaultCloseTimeoutMs = 30_000;

/** Validated tuning with defaults applied. */
export interface TcpTuning {
  readonly highWaterMark: number;
  readonly noDelay: boolean;
  readonly keepAlive: boolean;
  readonly keepAliveInitialDelayMs: number | undefined;
  readonly closeTimeoutMs: number;
}

function checkPort(port: unknown, what: string, allowZero: boolean): number {
  if (
    typeof port !== "number" || !Number.isInteger(port) || port < (allowZero ? 0 : 1) ||
    port > 65535
  ) {
    throw new InvalidArgumentError(
      `${what}: port must be an integer in ${allowZero ? 0 : 1}..65535, received ${String(port)}`,
    );
  }
  return port;
}

function checkTuning(options: TcpSocketOptions, what: string): TcpTuning {
  const highWaterMark = options.highWaterMark ?? defaultLimits.writeHighWaterMark;
  if (!Number.isSafeInteger(highWaterMark) || highWaterMark < 0) {
    throw new InvalidArgumentError(
      `${what}: highWaterMark must be a non-negative integer, received ${highWaterMark}`,
    );
  }
  checkTimeout(options.keepAliveInitialDelayMs, "keepAliveInitialDelayMs", what);
  checkTimeout(options.closeTimeoutMs, "closeTimeoutMs", what);
  return {
    highWaterMark,
    noDelay: options.noDelay ?? true,
    keepAlive: options.keepAlive ?? true,
    keepAliveInitialDelayMs: options.keepAliveInitialDelayMs,
    closeTimeoutMs: options.closeTimeoutMs ?? defaultCloseTimeoutMs,
  };
}

/** Checks `tcpConnect` options; throws `InvalidArgumentError` naming the bad value. */
export function checkTcpConnectOptions(options: TcpConnectOptions, what: string) {
  if (options === null || typeof options !== "object") {
    throw new InvalidArgumentError(`${what}: expected options { host, port }, received ${options}`);
  }
  const { host } = options;
  if (typeof host !== "string" || host === "") {
    throw new InvalidArgumentError(`${what}: host must be a non-empty string, received ${host}`);
  }
  const port = checkPort(options.port, what, false);
  const timeoutMs = options.timeoutMs ?? defaultLimits.connectTimeoutMs;
  checkTimeout(timeoutMs, "timeoutMs", what);
  return { host, port, timeoutMs, ...checkTuning(options, what) };
}

/** Checks `tcpListen` options; throws `InvalidArgumentError` naming the bad value. */
export function checkTcpListenOptions(options: TcpListenOptions, what: string) {
  const host = options.host ?? "127.0.0.1";
  if (typeof host !== "string" || host === "") {
    throw new InvalidArgumentError(`${what}: host must be a non-empty string, received ${host}`);
  }
  const port = checkPort(options.port ?? 0, what, true);
  const backlog = options.backlog;
  if (backlog !== undefined && (!Number.isInteger(backlog) || backlog < 0)) {
    throw new InvalidArgumentError(
      `${what}: backlog must be a non-negative integer, received ${backlog}`,
    );
  }
  return { host, port, backlog, ...checkTuning(options, what) };
}

/** The deadline for one connect: the caller's `timeoutMs`, else the connector's default. */
export function connectTimeout(
  callerTimeoutMs: number | undefined,
  defaultTimeoutMs: number,
  target: string,
): number {
  const timeoutMs = callerTimeoutMs ?? defaultTimeoutMs;
  checkTimeout(timeoutMs, "timeoutMs", `connect to ${target}`);
  return timeoutMs;
}

/** `host:port`, with IPv6 hosts in brackets. */
export function formatHostPort(host: string | undefined, port: number | undefined): string {
  const h = host ?? "?";
  return `${h.includes(":") ? `[${h}]` : h}:${port ?? "?"}`;
}
