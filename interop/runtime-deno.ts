/**
 * The interop programs' runtime bindings for Deno: `adapters/deno/tcp.ts` and `tls.ts`, files,
 * `Deno.args`, `Deno.exit`, signal listeners. Only loaded when `Deno` is a global (see
 * `runtime.ts`).
 *
 * The TLS adapter is imported on first use, so the TCP programs run whether or not it is there;
 * without it, tls:// fails with an error naming the missing module.
 *
 * @module
 */

import { tcpConnect, tcpListen } from "../adapters/deno/tcp.ts";
import { describeError, TransportError } from "../src/errors.ts";
import type { Connect, Listen } from "../src/socket.ts";
import type { InteropTarget } from "./args.ts";
import { type InteropRuntime, schemeUnavailable } from "./runtime.ts";

/** The shape of `adapters/deno/tls.ts` used here (the same as the Node adapter's). */
interface DenoTlsAdapter {
  tlsConnect(options: { host: string; port: number; ca?: string }): Connect;
  tlsListen(options: { host: string; port: number; cert: string; key: string }): Listen;
}

let tlsAdapter: Promise<DenoTlsAdapter> | undefined;

function loadTlsAdapter(): Promise<DenoTlsAdapter> {
  const url = new URL("../adapters/deno/tls.ts", import.meta.url).href;
  tlsAdapter ??= (import(url) as Promise<DenoTlsAdapter>).catch((error: unknown) => {
    throw new TransportError(`Cannot load the Deno TLS adapter ${url}: ${describeError(error)}`, {
      cause: error,
    });
  });
  return tlsAdapter;
}

/** The part of the `Deno` namespace used here (typed locally so Node's type-check passes). */
interface DenoProcessApi {
  readonly args: readonly string[];
  exit(code: number): never;
  readTextFile(path: string): Promise<string>;
  writeTextFile(path: string, text: string): Promise<void>;
  addSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
}

export function denoRuntime(): InteropRuntime {
  const deno = (globalThis as unknown as { Deno: DenoProcessApi }).Deno;
  return {
    name: "deno",
    args: deno.args,
    connect(target: InteropTarget, options = {}) {
      const { host, port } = target;
      if (target.scheme === "tcp") return tcpConnect({ host, port });
      if (target.scheme === "tls") {
        const ca = options.ca ? { ca: options.ca } : {};
        return async (connectOptions) =>
          await (await loadTlsAdapter()).tlsConnect({ host, port, ...ca })(connectOptions);
      }
      throw schemeUnavailable(target, "deno", ["tcp", "tls"]);
    },
    listenTcp: (host, port) => tcpListen({ host, port }),
    listenTls: (host, port, { cert, key }) => async (onSocket) =>
      await (await loadTlsAdapter()).tlsListen({ host, port, cert, key })(onSocket),
    readTextFile: (path) => deno.readTextFile(path),
    writeTextFile: (path, text) => deno.writeTextFile(path, text),
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
