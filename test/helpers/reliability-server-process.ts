/**
 * The reliability server (`reliability-server.ts`) as a program, for tests that need it in another
 * process (to kill it with SIGKILL, to measure it apart): prints `LISTENING <host> <port>` once
 * bound, then serves until killed. Usage: `node --import tsx reliability-server-process.ts [port]`.
 *
 * @module
 */

import process from "node:process";
import { tcpListen } from "../../adapters/node/tcp.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { reliabilityHandler, reliabilityStreams } from "./reliability-server.ts";

const server = new TransportServer({
  rpcHandler: reliabilityHandler,
  streamManager: reliabilityStreams,
  onHandlerError: () => {},
});
const listener = await server.listen(
  tcpListen({ host: "127.0.0.1", port: Number(process.argv[2] ?? 0) }),
);
process.stdout.write(`LISTENING ${listener.address.host} ${listener.address.port}\n`);
