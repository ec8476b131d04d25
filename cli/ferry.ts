#!/usr/bin/env -S node --import tsx
/**
 * The `ferry` command line:
 *
 *     ferry serve [dir]        serve a folder (default: demo data) over TCP, WebSocket, gateway
 *     ferry get <url> [out]    download and verify a file, resumably
 *     ferry bench              run the benchmark suite
 *
 * Runs under Node (`node --import tsx cli/ferry.ts`, or the package's `ferry` bin) and Deno
 * (`deno run -A cli/ferry.ts`), choosing the runtime's adapters by detecting Deno.
 *
 * @module
 */

import process from "node:process";
import { describeError } from "../src/errors.ts";
import { UsageError } from "./args.ts";
import { benchCommand, benchUsage } from "./bench.ts";
import { getCommand, getUsage } from "./get.ts";
import { loadCliRuntime } from "./runtime.ts";
import { serveCommand, serveUsage } from "./serve.ts";

const usage = `Usage: ferry <command> [options]

Commands:
  serve [dir]       serve a folder (default: built-in demo data) over TCP, WebSocket and the
                    gateway, with the web demo on the HTTP port
  get <url> [out]   download a file (tcp://, tls://, ws://, wss://), verify its SHA-256, resume
  bench             run the benchmark suite and print a table

Run "ferry <command> --help" for a command's options.`;

const usages: Record<string, string> = { serve: serveUsage, get: getUsage, bench: benchUsage };

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    console.log(usage);
    return command === undefined ? 2 : 0;
  }
  try {
    switch (command) {
      case "serve":
        return await serveCommand(rest, await loadCliRuntime());
      case "get":
        return await getCommand(rest, await loadCliRuntime());
      case "bench":
        return await benchCommand(rest);
      default:
        console.error(`ferry: unknown command ${JSON.stringify(command)}\n\n${usage}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`ferry ${command}: ${error.message}\n\n${usages[command]}`);
      return 2;
    }
    console.error(`ferry ${command}: ${describeError(error)}`);
    return 1;
  }
}

// Everything the command opened is closed by now; exit explicitly so that a handle a runtime
// keeps (a keep-alive agent, a pending DNS lookup) cannot hold the process open.
process.exit(await main(process.argv.slice(2)));
