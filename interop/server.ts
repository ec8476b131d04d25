/**
 * The Ferry interop server (`../shared/INTEROP.md`), for Node and Deno:
 *
 *     node --import tsx interop/server.ts [port] [host]
 *     deno run -A interop/server.ts [port] [host]
 *
 * Prints `LISTENING <host> <port>` once bound, serves until SIGINT/SIGTERM, then closes cleanly.
 *
 * @module
 */

import { describeError } from "../src/errors.ts";
import { parseServerArgs, serverUsage } from "./args.ts";
import { createInteropServer } from "./interop-handler.ts";
import { type InteropRuntime, loadRuntime } from "./runtime.ts";

const runtime: InteropRuntime = await loadRuntime();

let args;
try {
  args = parseServerArgs(runtime.args);
} catch (error) {
  console.error(describeError(error));
  console.error(serverUsage);
  runtime.exit(2);
}
if (args.wsPort !== undefined) {
  console.error(
    `--ws ${args.wsPort}: the WebSocket listener is not available in the interop server yet ` +
      `(no WebSocket accept adapter is wired in interop/runtime-${runtime.name}.ts)`,
  );
  runtime.exit(2);
}

const server = createInteropServer();
try {
  const listener = await server.listen(runtime.listenTcp(args.host, args.port));
  console.log(`LISTENING ${listener.address.host} ${listener.address.port}`);
} catch (error) {
  console.error(`Cannot listen on ${args.host}:${args.port}: ${describeError(error)}`);
  await server.close();
  runtime.exit(1);
}

runtime.onShutdownSignal(() => {
  server.close().then(() => runtime.exit(0), (error) => {
    console.error(`Closing the interop server failed: ${describeError(error)}`);
    runtime.exit(1);
  });
});
