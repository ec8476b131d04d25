/**
 * The one place the `ferry` CLI picks its runtime's adapters: Deno's when `Deno` is a global,
 * Node's otherwise. Each runtime module is imported dynamically, so Node never loads Deno code.
 * Everything else in the CLI (files, paths, hashing, processes) uses `node:` modules, which Deno
 * runs too.
 *
 * @module
 */

import type { Connect, Listen, SocketListener } from "../src/socket.ts";
import type { GatewayOptions } from "../src/gateway/gateway-options.ts";

/** A gateway started on a listener of its own that also serves plain HTTP. */
export interface RunningHttpGateway {
  readonly address: SocketListener["address"];
  close(): Promise<void>;
}

/** What the CLI needs from the runtime it runs on. */
export interface CliRuntime {
  readonly name: "node" | "deno";
  tcpConnect(host: string, port: number): Connect;
  tlsConnect(host: string, port: number, ca: string | undefined): Connect;
  webSocketConnect(url: string): Connect;
  tcpListen(host: string, port: number): Listen;
  tlsListen(host: string, port: number, cert: string, key: string): Listen;
  webSocketListen(host: string, port: number): Listen;
  startGateway(
    options: Omit<GatewayOptions, "connect"> & {
      readonly host: string;
      readonly port: number;
      readonly onRequest: (request: Request) => Response | Promise<Response>;
    },
  ): Promise<RunningHttpGateway>;
}

export async function loadCliRuntime(): Promise<CliRuntime> {
  if ("Deno" in globalThis) {
    const { denoCliRuntime } = await import("./runtime-deno.ts");
    return denoCliRuntime();
  }
  const { nodeCliRuntime } = await import("./runtime-node.ts");
  return nodeCliRuntime();
}
