/**
 * What `ferry serve DIR` runs for the web demo, in a process of its own, for the
 * `web-demo-vs-fetch` case: the file service over `folderCatalog(DIR)` (1 MiB chunks, per-chunk
 * SHA-256 digests) on TCP, and `ferry serve`'s gateway (`startServeGateway`, target `files`) in
 * front of it. The one difference: the gateway's Origin allowlist is the bench page's origin given
 * on the command line (a page served by `ferry serve` itself could not be driven by the bench).
 *
 *     node --import ./bench/harness/ts-loader.mjs bench/servers/web-demo-file-server.ts DIR ORIGIN
 *
 * prints `{"ready":true,"gateway":"ws://127.0.0.1:PORT/gateway/files"}` and exits when its stdin
 * ends.
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

const [dir, origin] = process.argv.slice(2);
if (dir === undefined || origin === undefined) {
  console.error("usage: web-demo-file-server.ts DIR ORIGIN");
  process.exit(2);
}

const runtime = nodeCliRuntime();
// No digest cache: the folder is fresh for every case run.
const catalog = await folderCatalog(dir, { chunkSize: 1 << 20 });
const streams = new OneForOneStreamManager();
const router = new ServiceRouter().serve(fileService, fileServiceImplementation(catalog, streams));
const server = new TransportServer({ rpcHandler: router, streamManager: streams });
const tcp = await server.listen(runtime.tcpListen("127.0.0.1", 0));
const gateway = await startServeGateway(runtime, {
  host: "127.0.0.1",
  port: 0,
  targets: { files: { host: tcp.address.host, port: tcp.address.port } },
  allowedOrigins: () => [origin],
  onRequest: () => new Response(null, { status: 404 }),
});
console.log(JSON.stringify({
  ready: true,
  gateway: `ws://127.0.0.1:${gateway.address.port}/gateway/files`,
}));

process.stdin.resume();
process.stdin.on("end", async () => {
  await gateway.close();
  await server.close();
  process.exit(0);
});
