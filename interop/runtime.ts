/**
 * The one place the interop programs pick their runtime: Deno when `Deno` is a global, Node
 * otherwise. Each runtime's module is imported dynamically, so Node never loads Deno code and
 * Deno never loads `node:*` modules. Bun runs the Node bindings (its `node:net`, `node:tls` and
 * the `ws` package) and is named `bun`.
 *
 * @module
 */

import type { Connect, Listen } from "../src/socket.ts";
import type { InteropTarget } from "./args.ts";

/** What the interop entry points need from the runtime they run on. */
export interface InteropRuntime {
  /** The runtime actually running the program (Bun runs the Node bindings as `bun`). */
  readonly name: "node" | "deno" | "bun";
  /** Its version, e.g. `20.20.2`, `2.9.5`, `1.4.5`. */
  readonly version: string;
  /** Command-line arguments after the program. */
  readonly args: readonly string[];
  /**
   * A connector for `target` (tcp, tls, ws or wss); `ca` (PEM) is trusted for tls:// and wss://
   * in addition to the default roots.
   */
  connect(target: InteropTarget, options?: { readonly ca?: string }): Connect;
  /** A TCP listener on host and port (0 = any free port). */
  listenTcp(host: string, port: number): Listen;
  /** A WebSocket listener on host and port (any path). */
  listenWebSocket(host: string, port: number): Listen;
  /** A TLS listener on host and port presenting `credentials` (PEM certificate and key). */
  listenTls(host: string, port: number, credentials: TlsCredentials): Listen;
  /** Reads a UTF-8 text file. */
  readTextFile(path: string): Promise<string>;
  /** Writes (replaces) a UTF-8 text file. */
  writeTextFile(path: string, text: string): Promise<void>;
  /** Runs `callback` once on SIGINT or SIGTERM (instead of the default abrupt exit). */
  onShutdownSignal(callback: () => void): void;
  /** Ends the process with `code`. */
  exit(code: number): never;
}

/** A certificate chain and its private key, both PEM. */
export interface TlsCredentials {
  readonly cert: string;
  readonly key: string;
}

export async function loadRuntime(): Promise<InteropRuntime> {
  if ("Deno" in globalThis) {
    const { denoRuntime } = await import("./runtime-deno.ts");
    return denoRuntime();
  }
  const { nodeRuntime } = await import("./runtime-node.ts");
  return nodeRuntime();
}

/**
 * `interop <program> under <runtime> <version>`, on stderr: stdout carries only what docs/interop.md
 * prescribes (the clients' lines are compared exactly), and the line tells which runtime ran.
 */
export function announceRuntime(runtime: InteropRuntime, program: "client" | "server"): void {
  console.error(`interop ${program} under ${runtime.name} ${runtime.version}`);
}

/**
 * `onShutdownSignal` over a runtime's way to `subscribe` to a signal: `callback` runs once, on the
 * first SIGINT or SIGTERM.
 */
export function onFirstShutdownSignal(
  subscribe: (signal: "SIGINT" | "SIGTERM", listener: () => void) => void,
  callback: () => void,
): void {
  let called = false;
  const once = () => {
    if (called) return;
    called = true;
    callback();
  };
  subscribe("SIGINT", once);
  subscribe("SIGTERM", once);
}
