/**
 * The interop programs' runtime bindings for Deno: `adapters/deno/tcp.ts`, `Deno.args`,
 * `Deno.exit`, signal listeners. Only loaded when `Deno` is a global (see `runtime.ts`).
 *
 * @module
 */

import { describeError, TransportError } from "../src/errors.ts";
import type { Connect, Listen } from "../src/socket.ts";
import type { InteropTarget } from "./args.ts";
import { type InteropRuntime, schemeUnavailable } from "./runtime.ts";

/** The part of the `Deno` namespace used here (typed locally so Node's type-check passes). */
interface DenoApi {
  readonly args: readonly string[];
  exit(code: number): never;
  addSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
}

/** The shape of `adapters/deno/tcp.ts`, the same as the Node adapter's. */
interface TcpAdapter {
  tcpConnect(options: { host: string; port: number }): Connect;
  tcpListen(options: { host?: string; port?: number }): Listen;
}

export async function denoRuntime(): Promise<InteropRuntime> {
  const deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
  const adapterUrl = new URL("../adapters/deno/tcp.ts", import.meta.url).href;
  let tcp: TcpAdapter;
  try {
    tcp = await import(adapterUrl) as TcpAdapter;
  } catch (error) {
    throw new TransportError(
      `Cannot load the Deno TCP adapter from ${adapterUrl}: ${describeError(error)}`,
      { cause: error },
    );
  }
  return {
    name: "deno",
    args: deno.args,
    connect(target: InteropTarget) {
      if (target.scheme !== "tcp") throw schemeUnavailable(target, "deno");
      return tcp.tcpConnect({ host: target.host, port: target.port });
    },
    listenTcp: (host, port) => tcp.tcpListen({ host, port }),
    onShutdownSignal(callback) {
      let called = false;
      const once = () => {
        if (called) return;
        called = true;
        callback();
      };
      deno.addSignalListener("SIGINT", once);
      deno.addSignalListener("SIGTERM", once);
    },
    exit: (code: number): never => deno.exit(code),
  };
}
