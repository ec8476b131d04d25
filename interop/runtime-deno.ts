/**
 * The interop programs' runtime bindings for Deno: `adapters/deno/tcp.ts`, `tls.ts` and
 * `ws-listen.ts`, `adapters/websocket/` over Deno's global WebSocket, files, `Deno.args`,
 * `Deno.exit`, signal listeners. Only loaded when `Deno` is a global (see `runtime.ts`).
 *
 * @module
 */

import { tcpConnect, tcpListen } from "../adapters/deno/tcp.ts";
import { tlsConnect, tlsListen } from "../adapters/deno/tls.ts";
import { webSocketListen } from "../adapters/deno/ws-listen.ts";
import { webSocketConnect } from "../adapters/websocket/mod.ts";
import { wsConnect } from "../adapters/deno/ws-connect.ts";
import type { InteropTarget } from "./args.ts";
import { type InteropRuntime, onFirstShutdownSignal } from "./runtime.ts";

/** The part of the `Deno` namespace used here (typed locally so Node's type-check passes). */
interface DenoProcessApi {
  readonly args: readonly string[];
  readonly version: { readonly deno: string };
  exit(code: number): never;
  readTextFile(path: string): Promise<string>;
  writeTextFile(path: string, text: string): Promise<void>;
  addSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
}

export function denoRuntime(): InteropRuntime {
  const deno = (globalThis as unknown as { Deno: DenoProcessApi }).Deno;
  return {
    name: "deno",
    version: deno.version.deno,
    args: deno.args,
    connect(target: InteropTarget, options = {}) {
      const { host, port } = target;
      if (target.scheme === "tcp") return tcpConnect({ host, port });
      if (target.scheme === "tls") {
        return tlsConnect({ host, port, ...(options.ca ? { ca: options.ca } : {}) });
      }
      if (target.scheme === "ws") return webSocketConnect({ url: target.url });
      // wss: Ferry's own framing over Deno TLS, which can trust the interop server's certificate.
      return wsConnect({ url: target.url, ...(options.ca ? { ca: options.ca } : {}) });
    },
    listenTcp: (host, port) => tcpListen({ host, port }),
    // An interop test server: the browser checks connect from pages on other origins.
    listenWebSocket: (host, port) => webSocketListen({ host, port, allowedOrigins: ["*"] }),
    listenTls: (host, port, { cert, key }) => tlsListen({ host, port, cert, key }),
    readTextFile: (path) => deno.readTextFile(path),
    writeTextFile: (path, text) => deno.writeTextFile(path, text),
    onShutdownSignal: (callback) =>
      onFirstShutdownSignal(
        (signal, listener) => deno.addSignalListener(signal, listener),
        callback,
      ),
    exit: (code: number): never => deno.exit(code),
  };
}
