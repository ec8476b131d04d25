/**
 * What the socket conformance suite stands on: how it reaches an adapter (`SocketTransport`),
 * connecting a pair through the adapter's real `Listen` and `Connect`, the leak check, and the
 * cleanup every case ends with.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Connect, Listen, Socket, SocketListener } from "../../src/socket.ts";
import { type SinkRecorder, turns } from "./socket-recorder.ts";

/** Socket tuning a test asks for. */
export interface PairOptions {
  readonly highWaterMark?: number;
}

/** How the suite reaches an adapter. */
export interface SocketTransport {
  /** A `Listen` on a fresh local address (port 0 or equivalent). */
  listen(options: PairOptions): Listen;
  /** A `Connect` to a bound listener's address. */
  connect(address: SocketListener["address"], options: PairOptions): Connect;
  /**
   * Whether `close(error)` reaches the peer as a reset (default true). False where the runtime
   * cannot send one (Deno's TCP API has no SO_LINGER): the peer then sees the end of the stream.
   */
  readonly resetReachesPeer?: boolean;
  /**
   * Whether a paused server stops reading from the network, so the writer stalls (default true).
   * False where the runtime cannot stop a WebSocket's reads (browsers, Deno): the adapter holds
   * the messages instead; delivery still stops and resumes.
   */
  readonly pausePushesBack?: boolean;
  /**
   * Whether closing a listener leaves its accepted sockets open (default true, as the contract
   * says). False for Deno's WebSocket listener: `Deno.serve` cannot stop listening without
   * closing the WebSockets it upgraded; they then end, and the suite checks that they do.
   */
  readonly listenerCloseKeepsSockets?: boolean;
}

/** A connected pair and its listener. */
export interface ConnectedPair {
  readonly client: Socket;
  readonly server: Socket;
  readonly listener: SocketListener;
}

/** Listens, connects once, and returns both ends (the listener stays open for cleanup). */
export async function connectPair(
  transport: SocketTransport,
  options: PairOptions = {},
): Promise<ConnectedPair> {
  let acceptServer!: (socket: Socket) => void;
  const accepted = new Promise<Socket>((resolve) => (acceptServer = resolve));
  const listener = await transport.listen(options)((socket) => acceptServer(socket));
  try {
    const client = await transport.connect(listener.address, options)({ timeoutMs: 10_000 });
    return { client, server: await accepted, listener };
  } catch (error) {
    await listener.close();
    throw error;
  }
}

const isDeno = "Deno" in globalThis;

/**
 * Why `withoutLeaks` checks nothing in this runtime, or undefined where it does (Node). Under
 * Bun, `process.getActiveResourcesInfo()` exists but always returns `[]`, so comparing it would
 * pass whatever was left open; the suite says the check is skipped instead. (Deno's cases run
 * under `Deno.test`, whose resource and op sanitizers check the same.)
 */
export const leakCheckSkipped: string | undefined = "Bun" in globalThis
  ? "process.getActiveResourcesInfo() always returns [] under Bun: no leak check there"
  : undefined;

/** Socket and server handles open in this Node process (timers and immediates excluded). */
function openHandles(): string[] {
  if (isDeno || leakCheckSkipped !== undefined) return [];
  const info = (globalThis as { process?: { getActiveResourcesInfo?: () => string[] } }).process
    ?.getActiveResourcesInfo?.() ?? [];
  // Timers, immediates and file-system requests are not sockets: an fs read still in flight when
  // the baseline is taken (a module loaded lazily, a subscriber's file) ends on its own.
  return info.filter((name) =>
    name !== "Timeout" && name !== "Immediate" && !name.startsWith("FSReq")
  ).sort();
}

let toldSkipped = false;

/**
 * Runs `body` and checks that the socket handles it opened are all gone afterwards (under Node;
 * where `leakCheckSkipped` says why not, it says so once and only runs `body`).
 */
export async function withoutLeaks(body: () => Promise<void>): Promise<void> {
  if (leakCheckSkipped !== undefined && !toldSkipped) {
    toldSkipped = true;
    console.log(`leak checks skipped: ${leakCheckSkipped}`);
  }
  const before = openHandles();
  await body();
  let after = openHandles();
  // Handles disappear in the close phase of a later loop turn.
  for (let i = 0; i < 100 && after.join() !== before.join(); i++) {
    await turns(1);
    after = openHandles();
  }
  assert.deepEqual(after, before, "socket or server handles left open");
}

/** Closes everything of a pair (reset if needed) and waits until both ends have settled. */
export async function shutdown(pair: ConnectedPair): Promise<void> {
  pair.client.close(new Error("test cleanup"));
  pair.server.close(new Error("test cleanup"));
  await Promise.all([pair.client.closed, pair.server.closed, pair.listener.close()]);
}

export function noViolations(...sinks: SinkRecorder[]): void {
  for (const sink of sinks) assert.deepEqual(sink.violations, []);
}
