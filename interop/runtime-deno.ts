/**
 * The interop programs' runtime bindings for Deno: `adapters/deno/tcp.ts`, `Deno.args`,
 * `Deno.exit`, signal listeners. Only loaded when `Deno` is a global (see `runtime.ts`).
 *
 * @module
 */

import { tcpConnect, tcpListen } from "../adapters/deno/tcp.ts";
import type { InteropTarget } from "./args.ts";
import { type InteropRuntime, schemeUnavailable } from "./runtime.ts";

/** The part of the `Deno` namespace used here (typed locally so Node's type-check passes). */
interface DenoProcessApi {
  readonly args: readonly string[];
  exit(code: number): never;
  addSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
}

export function denoRuntime(): InteropRuntime {
  const deno = (globalThis as unknown as { Deno: DenoProcessApi }).Deno;
  return {
    name: "deno",
    args: deno.args,
    connect(target: InteropTarget) {
      if (target.scheme !== "tcp") throw schemeUnavailable(target, "deno");
      return tcpConnect({ host: target.host, port: target.port });
    },
    listenTcp: (host, port) => tcpListen({ host, port }),
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
