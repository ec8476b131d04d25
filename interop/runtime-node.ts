/**
 * The interop programs' runtime bindings for Node: `adapters/node/tcp.ts` and `tls.ts`, files,
 * `process`.
 *
 * @module
 */

import { readFile, writeFile } from "node:fs/promises";
import process from "node:process";
import { tcpConnect, tcpListen } from "../adapters/node/tcp.ts";
import { tlsConnect, tlsListen } from "../adapters/node/tls.ts";
import type { InteropTarget } from "./args.ts";
import { type InteropRuntime, schemeUnavailable } from "./runtime.ts";

export function nodeRuntime(): InteropRuntime {
  return {
    name: "node",
    args: process.argv.slice(2),
    connect(target: InteropTarget, options = {}) {
      const { host, port } = target;
      if (target.scheme === "tcp") return tcpConnect({ host, port });
      if (target.scheme === "tls") {
        return tlsConnect({ host, port, ...(options.ca ? { ca: options.ca } : {}) });
      }
      throw schemeUnavailable(target, "node", ["tcp", "tls"]);
    },
    listenTcp: (host, port) => tcpListen({ host, port }),
    listenTls: (host, port, { cert, key }) => tlsListen({ host, port, cert, key }),
    readTextFile: (path) => readFile(path, "utf8"),
    writeTextFile: (path, text) => writeFile(path, text, "utf8"),
    onShutdownSignal(callback) {
      let called = false;
      const once = () => {
        if (called) return;
        called = true;
        callback();
      };
      process.once("SIGINT", once);
      process.once("SIGTERM", once);
    },
    exit(code: number): never {
      process.exit(code);
    },
  };
}
