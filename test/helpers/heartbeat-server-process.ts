/**
 * A Ferry server that answers heartbeat pings (`ferryPingResponder`) and echoes RPCs, as a program,
 * for tests that run it somewhere else — e.g. inside a network namespace
 * (`heartbeat-netns.test.ts`). Prints `LISTENING <host> <port>` once bound, then serves until
 * killed. Usage: `node --import tsx heartbeat-server-process.ts <host> [port]`.
 *
 * @module
 */

import process from "node:process";
import { tcpListen } from "../../adapters/node/tcp.ts";
import { ferryPingResponder } from "../../src/extensions/ferry-ping.ts";
import { TransportServer } from "../../src/server/transport-server.ts";

const host = process.argv[2];
if (host === undefined) {
  process.stderr.write("usage: heartbeat-server-process.ts <host> [port]\n");
  process.exit(2);
}
const server = new TransportServer({
  rpcHandler: { receive: (_client, message) => message },
  interceptor: ferryPingResponder,
});
const listener = await server.listen(tcpListen({ host, port: Number(process.argv[3] ?? 0) }));
process.stdout.write(`LISTENING ${listener.address.host} ${listener.address.port}\n`);
