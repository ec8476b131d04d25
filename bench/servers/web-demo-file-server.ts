/**
 * What `ferry serve DIR` runs for the web demo, in a process of its own, for the
 * `web-demo-vs-fetch` case: the file service over `folderCatalog(DIR)` (per-chunk SHA-256 digests;
 * `ferry serve`'s chunk size, `SERVE_CHUNK_SIZE`, unless an experiment gives CHUNK_SIZE) on TCP
 * and in process, and `ferry serve`'s gateway (`startServeGateway`, target
 * `files`) in front of it, reaching the file service in process (`inProcessNetwork`), as `ferry
 * serve` does. The one difference: the gateway's Origin allowlist is the bench page's origin given
 * on the command line (a page served by `ferry serve` itself could not be driven by the bench).
 *
 * A second gateway reaches the same file service over loopback TCP, as `ferry serve` did before:
 * the `web-demo-tcp-hop` contestant, what the in-process hop saves.
 *
 *     node --import ./bench/harness/ts-loader.mjs bench/servers/web-demo-file-server.ts DIR ORIGIN \
 *       [CHUNK_SIZE]
 *
 * prints `{"ready":true,"gateway":"ws://127.0.0.1:PORT/gateway/files","gatewayTcpHop":"ws://…"}`
 * and exits when its stdin ends.
 *
 * @module
 */

import process from "node:process";
import { fileService } from "../../src/files/file-service.ts";
import { fileServiceImplementation } from "../../src/files/file-service-handler.ts";
import { ServiceRouter } from "../../src/rpc/service-router.ts";
import { OneForOneStreamManager } from "../../src/responder/one-for-one-stream-manager.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { folderCatalog } from "../../cli/folder-catalog.ts";
import { nodeCliRuntime } from "../../cli/runtime-node.ts";
import { startServeGateway } from "../../cli/serve-gateway.ts";
import { inProcessNetwork } from "../../src/gateway/in-process-network.ts";
import type { GatewayTarget } from "../../src/gateway/gateway-options.ts";

const [dir, origin, chunkArg] = process.argv.slice(2);
if (dir === undefined || origin === undefined) {
  console.error("usage: web-demo-file-server.ts DIR ORIGIN [CHUNK_SIZE]");
  process.exit(2);
}

const runtime = nodeCliRuntime();
// No digest cache: the folder is fresh for every case run.
const catalog = await folderCatalog(
  dir,
  chunkArg === undefined ? {} : { chunkSize: Number(chunkArg) },
);
const streams = new OneForOneStreamManager();
const router = new ServiceRouter().serve(fileService, fileServiceImplementation(catalog, streams));
const server = new TransportServer({ rpcHandler: router, streamManager: streams });
const tcp = await server.listen(runtime.tcpListen("127.0.0.1", 0));
const inProcess = inProcessNetwork("files");
await server.listen(inProcess.listen);
const gatewayTo = (target: GatewayTarget) =>
  startServeGateway(runtime, {
    host: "127.0.0.1",
    port: 0,
    targets: { files: target },
    allowedOrigins: () => [origin],
    onRequest: () => new Response(null, { status: 404 }),
  });
const gateway = await gatewayTo({ connect: inProcess.connect });
const gatewayTcpHop = await gatewayTo({ host: tcp.address.host, port: tcp.address.port });
console.log(JSON.stringify({
  ready: true,
  gateway: `ws://127.0.0.1:${gateway.address.port}/gateway/files`,
  gatewayTcpHop: `ws://127.0.0.1:${gatewayTcpHop.address.port}/gateway/files`,
}));

process.stdin.resume();
process.stdin.on("end", async () => {
  await gateway.close();
  await gatewayTcpHop.close();
  await server.close();
  process.exit(0);
});
