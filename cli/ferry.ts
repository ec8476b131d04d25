/**
 * The `ferry` command line:
 *
 *     ferry serve [dir]        serve a folder (default: demo data) over TCP, WebSocket, gateway
 *     ferry get <url> [out]    download and verify a file, resumably
 *     ferry bench              run the benchmark suite
 *
 * Runs under Node (`node --import tsx cli/ferry.ts`, or the package's `ferry` bin, which runs the
 * compiled `dist/cli/ferry.js` in the installed package) and Deno (`deno run -A cli/ferry.ts`),
 * choosing the runtime's adapters by detecting Deno. (No shebang: the bin is the executable, and a
 * `#!` line before a dynamic `import()` trips tsx's import rewriting.)
 *
 * @module
 */

import process from "node:process";
import { describeError } from "../src/errors.ts";
import { UsageError } from "./args.ts";
import { loadCliRuntime } from "./runtime.ts";

const usage = `Usage: ferry <command> [options]

Commands:
  serve [dir]       serve a folder (default: built-in demo data) over TCP, WebSocket and the
                    gateway, with the web demo on the HTTP port
  get <url> [out]   download a file (tcp://, tls://, ws://, wss://), verify its SHA-256, resume
  bench             run the benchmark suite and print a table

Run "ferry <command> --help" for a command's options.`;

/**
 * Each command's module, loaded only when that command runs: `ferry --help` and a usage error
 * load none of them, and `ferry get` does not load the server side.
 */
const commands = {
  serve: async () => {
    const { serveCommand, serveUsage } = await import("./serve.ts");
    return {
      usage: serveUsage,
      run: async (argv: string[]) => serveCommand(argv, await loadCliRuntime()),
    };
  },
  get: async () => {
    const { getCommand, getUsage } = await import("./get.ts");
    return {
      usage: getUsage,
      run: async (argv: string[]) => getCommand(argv, await loadCliRuntime()),
    };
  },
  bench: async () => {
    const { benchCommand, benchUsage } = await import("./bench.ts");
    return { usage: benchUsage, run: (argv: string[]) => benchCommand(argv) };
  },
} as const;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    console.log(usage);
    return command === undefined ? 2 : 0;
  }
  if (!Object.hasOwn(commands, command)) {
    console.error(`ferry: unknown command ${JSON.stringify(command)}\n\n${usage}`);
    return 2;
  }
  const { usage: commandUsage, run } = await commands[command as keyof typeof commands]();
  try {
    return await run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`ferry ${command}: ${error.message}\n\n${commandUsage}`);
      return 2;
    }
    console.error(`ferry ${command}: ${describeError(error)}`);
    return 1;
  }
}

// Everything the command opened is closed by now; exit explicitly so that a handle a runtime
// keeps (a keep-alive agent, a pending DNS lookup) cannot hold the process open.
process.exit(await main(process.argv.slice(2)));
