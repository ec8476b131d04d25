/**
 * The interop programs' runtime bindings for Node: `adapters/node/tcp.ts`, `process`.
 *
 * @module
 */

import process from "node:process";
import { tcpConnect, tcpListen } from "../adapters/node/tcp.ts";
import type { InteropTarget } from "./args.ts";
import { type InteropRuntime, schemeUnavailable } from "./runtime.ts";

export function nodeRuntime(): InteropRuntime {
  return {
    name: "node",
    args: process.argv.slice(2),
    connect(target: InteropTarget) {
      if (target.scheme !== "tcp") throw schemeUnavailable(target, "node");
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
      process.once("SIGINT", once);
      process.once("SIGTERM", once);
    },
    exit(code: number): never {
      process.exit(code);
    },
  };
}
