/**
 * The one place the `ferry` CLI picks its runtime's adapters: Deno's when `Deno` is a global,
 * Node's otherwise (Bun runs the Node adapters unchanged and is named as itself). Each runtime
 * module is imported dynamically, so Node never loads Deno code.
 * Everything else in the CLI (files, paths, hashing, processes) uses `node:` modules, which Deno
 * runs too.
 *
 * @module
 */

import type { Connect, Listen, UpgradeRequest } from "../src/socket.ts";

/** The listener `ferry serve`'s gateway and web page share (see `serve-gateway.ts`). */
export interface GatewayListenOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The gateway's `maxFrameLength`: no WebSocket message may be larger. */
  readonly maxFrameLength: number;
  /** The gateway's `maxBufferedBytes` (Deno holds a paused browser's messages up to it). */
  readonly maxBufferedBytes: number;
  /** False refuses the upgrade with 403 (the gateway's Origin and path check). */
  readonly allowUpgrade: (request: UpgradeRequest) => boolean;
  /** Plain HTTP requests (the web demo). */
  readonly onRequest: (request: Request) => Response | Promise<Response>;
}

/** What the CLI needs from the runtime it runs on. */
export interface CliRuntime {
  /** The runtime as a user knows it (printed by `ferry serve`): Bun is "bun", not "node". */
  readonly name: "node" | "deno" | "bun";
  tcpConnect(host: string, port: number): Connect;
  tlsConnect(host: string, port: number, ca: string | undefined): Connect;
  webSocketConnect(url: string): Connect;
  tcpListen(host: string, port: number): Listen;
  tlsListen(host: string, port: number, cert: string, key: string): Listen;
  /** A direct WebSocket listener; pages may connect only from `allowedOrigins` (exact). */
  webSocketListen(host: string, port: number, allowedOrigins: readonly string[]): Listen;
  /**
   * A WebSocket listener for the gateway, with browser liveness (pings every 15 s) and, where the
   * runtime allows, a deadline for upgrade headers (10 s), as the adapters' gateway runners use.
   */
  gatewayListen(options: GatewayListenOptions): Listen;
}

export async function loadCliRuntime(): Promise<CliRuntime> {
  if ("Deno" in globalThis) {
    const { denoCliRuntime } = await import("./runtime-deno.ts");
    return denoCliRuntime();
  }
  const { nodeCliRuntime } = await import("./runtime-node.ts");
  return nodeCliRuntime();
}
