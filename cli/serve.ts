/**
 * `ferry serve [dir]`: serves a folder (default: the built-in demo data) through the file service
 * over TCP, over WebSocket, and through the gateway, with the web demo on the gateway's HTTP port.
 *
 * @module
 */

import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { describeError } from "../src/errors.ts";
import { ferryResponder } from "../src/extensions/ferry-responder.ts";
import { fileService } from "../src/files/file-service.ts";
import { fileServiceImplementation } from "../src/files/file-service-handler.ts";
import { ServiceRouter } from "../src/rpc/service-router.ts";
import { OneForOneStreamManager } from "../src/responder/one-for-one-stream-manager.ts";
import { TransportServer } from "../src/server/transport-server.ts";
import { inProcessNetwork } from "../src/gateway/in-process-network.ts";
import { generateSelfSignedCertificate } from "../src/tls/self-signed-certificate.ts";
import type { SocketListener } from "../src/socket.ts";
import { integerFlag, parseArgs, sizeFlag, stringFlag, UsageError } from "./args.ts";
import { DEFAULT_DEMO_SIZE, ensureDemoData } from "./demo-data.ts";
import { streamCapForDescriptors } from "./descriptor-limit.ts";
import { userCacheDir } from "./digest-cache.ts";
import { folderCatalog, SERVE_CHUNK_SIZE } from "./folder-catalog.ts";
import { MAX_CHUNK_SIZE } from "../src/files/file-catalog.ts";
import type { CliRuntime } from "./runtime.ts";
import {
  hostInUrl,
  pageOrigins,
  type RunningServeGateway,
  startServeGateway,
} from "./serve-gateway.ts";
import { createWebSite } from "./web-site.ts";
import { type RunningMetricsEndpoint, startMetricsEndpoint } from "./metrics-endpoint.ts";

export const serveUsage = `Usage: ferry serve [dir] [options]

Serves the regular files directly in <dir> (default: built-in demo data, generated on first run
into ~/.cache/ferry/demo, with a ${
  DEFAULT_DEMO_SIZE / 2 ** 20
} MiB big.bin) through Ferry's file service:

  tcp://HOST:PORT/<file>                    plain TCP (Spark's wire format)
  ws://HOST:WS_PORT/<file>                  WebSocket, straight to the server
  ws://HOST:HTTP_PORT/gateway/files/<file>  WebSocket through the gateway
  http://HOST:HTTP_PORT/                    the web demo (page at /, library at /ferry.js)

Options:
  --host <addr>        interface to bind (default 127.0.0.1)
  --port <n>           TCP port (default 7337; 0 picks a free port)
  --ws-port <n>        direct WebSocket port (default 7338; 0 picks one)
  --http-port <n>      gateway + web demo port (default 8080; 0 picks one)
  --tls-port <n>       also serve TLS here, with a fresh self-signed certificate (default: off)
  --cert-out <file>    write that certificate (PEM) here, for "ferry get tls://… --ca <file>"
  --chunk-size <size>  chunk size, e.g. 1M or 65536 (default 768K)
  --demo-size <size>   size of the demo's big.bin (default 256M)
  --demo-dir <dir>     where demo data is generated (default ~/.cache/ferry/demo)
  --follow-symlinks    also serve symlinks that lead out of <dir> (default: skipped)
  --no-web             do not build the browser bundle (the page cannot load /ferry.js)
  --metrics <port>     Prometheus metrics at http://HOST:PORT/metrics (0 picks a port; default off)
  --help               this text

Browsers may open gateway sessions and direct WebSockets only from the page's own origins
(http://127.0.0.1:HTTP_PORT, http://localhost:HTTP_PORT and --host's), printed as "Origins"; other
pages get 403; clients that send no Origin (ferry get) are let in. Symlinks leaving <dir>, dangling
ones and unreadable files are skipped with a warning. Digests are cached in $XDG_CACHE_HOME/ferry
(else ~/.cache/ferry); nothing is written into the current directory. Prints the URLs it serves;
Ctrl-C stops it.`;

/** The gateway target naming this server (the web demo's default target). */
export const GATEWAY_TARGET = "files";

const FLAGS = {
  host: "string",
  port: "string",
  "ws-port": "string",
  "http-port": "string",
  "tls-port": "string",
  "cert-out": "string",
  "chunk-size": "string",
  "demo-size": "string",
  "demo-dir": "string",
  "no-web": "boolean",
  "follow-symlinks": "boolean",
  metrics: "string",
  help: "boolean",
} as const;

export async function serveCommand(argv: readonly string[], runtime: CliRuntime): Promise<number> {
  const args = parseArgs(argv, FLAGS);
  if (args.flags.has("help")) {
    console.log(serveUsage);
    return 0;
  }
  if (args.positionals.length > 1) {
    throw new UsageError(`serve takes at most one folder, got ${args.positionals.join(" ")}`);
  }
  const host = stringFlag(args, "host", "127.0.0.1");
  const port = integerFlag(args, "port", 7337, 0, 65_535);
  const wsPort = integerFlag(args, "ws-port", 7338, 0, 65_535);
  const httpPort = integerFlag(args, "http-port", 8080, 0, 65_535);
  const tlsPort = args.flags.has("tls-port")
    ? integerFlag(args, "tls-port", 0, 0, 65_535)
    : undefined;
  const certOut = stringFlag(args, "cert-out");
  if (certOut !== undefined && tlsPort === undefined) {
    throw new UsageError("--cert-out needs --tls-port");
  }
  const chunkSize = sizeFlag(args, "chunk-size", SERVE_CHUNK_SIZE);
  if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new UsageError(
      `--chunk-size must be between 1 and ${MAX_CHUNK_SIZE} bytes, got ${chunkSize}`,
    );
  }
  const demoSize = sizeFlag(args, "demo-size", DEFAULT_DEMO_SIZE);
  const cacheDir = userCacheDir();
  const demoDir = resolve(stringFlag(args, "demo-dir", join(cacheDir, "demo")));
  const metricsPort = args.flags.has("metrics")
    ? integerFlag(args, "metrics", 0, 0, 65_535)
    : undefined;
  const log = (line: string) => console.error(line);

  const dir = args.positionals[0] !== undefined
    ? resolve(args.positionals[0])
    : ensureDemoData(demoDir, demoSize, log);
  let catalog;
  try {
    catalog = await folderCatalog(dir, {
      chunkSize,
      log,
      warn: (line) => console.error(`ferry serve: ${line}`),
      cacheDir,
      followSymlinks: args.flags.has("follow-symlinks"),
    });
  } catch (error) {
    console.error(`ferry serve: cannot serve ${dir}: ${describeError(error)}`);
    return 1;
  }
  const site = await createWebSite(resolve(demoDir, "web"), { build: !args.flags.has("no-web") });
  if (site.unavailable !== undefined && !args.flags.has("no-web")) {
    console.error(`ferry serve: no web demo: ${site.unavailable}`);
  }

  let metricsEndpoint: RunningMetricsEndpoint | undefined;
  try {
    // Before the server and the gateway exist: their connections are then timed per request.
    if (metricsPort !== undefined) metricsEndpoint = await startMetricsEndpoint(host, metricsPort);
  } catch (error) {
    console.error(`ferry serve: no metrics endpoint: ${describeError(error)}`);
    return 1;
  }
  const streams = new OneForOneStreamManager({ maxStreams: streamCapForDescriptors() });
  const router = new ServiceRouter().serve(
    fileService,
    fileServiceImplementation(catalog, streams),
  );
  // A Ferry server: pings answered, cancels of abandoned fetches applied, trace contexts consumed.
  const server = new TransportServer({
    rpcHandler: router,
    streamManager: streams,
    interceptor: ferryResponder,
  });
  const listeners: SocketListener[] = [];
  let gateway: RunningServeGateway | undefined;
  /** Which flag chose the port being bound, for "address in use". */
  let binding = `--port ${port}`;
  try {
    const tcp = await server.listen(runtime.tcpListen(host, port));
    listeners.push(tcp);
    binding = `--http-port ${httpPort}`;
    // The gateway reaches the file service in process, not over loopback TCP: each chunk body
    // then goes from the file to the browser's socket without crossing the kernel twice more.
    const inProcess = inProcessNetwork(GATEWAY_TARGET);
    await server.listen(inProcess.listen);
    gateway = await startServeGateway(runtime, {
      host,
      port: httpPort,
      targets: { [GATEWAY_TARGET]: { connect: inProcess.connect } },
      // The web page's own origins, with the port the listener really got (--http-port 0).
      allowedOrigins: (address) => pageOrigins(host, address.port),
      // `ferry get ws://…/gateway/files/…` sends no Origin; browsers always do.
      allowMissingOrigin: true,
      onRequest: (request) => site.handle(request),
    });
    // The direct WebSocket port admits the same pages as the gateway (and clients with no
    // Origin, such as ferry get): any other page a user visits gets 403.
    binding = `--ws-port ${wsPort}`;
    const ws = await server.listen(runtime.webSocketListen(host, wsPort, gateway.allowedOrigins));
    listeners.push(ws);
    if (tlsPort !== undefined) {
      const altNames = ["localhost", "127.0.0.1", "::1"];
      if (!altNames.includes(host) && host !== "0.0.0.0" && host !== "::") altNames.push(host);
      const { certPem, keyPem } = await generateSelfSignedCertificate({ altNames });
      if (certOut !== undefined) writeFileSync(certOut, certPem);
      binding = `--tls-port ${tlsPort}`;
      listeners.push(await server.listen(runtime.tlsListen(host, tlsPort, certPem, keyPem)));
    }
  } catch (error) {
    const described = describeError(error);
    const inUse = /EADDRINUSE|address already in use|AddrInUse/i.test(described)
      ? `; the port is taken: pick another with ${binding.split(" ")[0]} (0 picks a free one)`
      : "";
    console.error(`ferry serve: cannot listen on ${host} (${binding}): ${described}${inUse}`);
    await gateway?.close();
    await server.close();
    await metricsEndpoint?.close();
    return 1;
  }
  const h = hostInUrl(gateway.address.host);
  const files = catalog.list() as readonly { name: string; size: number }[];
  console.log(
    `ferry serve: ${files.length} file${files.length === 1 ? "" : "s"} from ${dir} ` +
      `(runtime: ${runtime.name})`,
  );
  for (const file of files) console.log(`  ${file.name}  ${file.size} bytes`);
  console.log(
    `TCP        tcp://${hostInUrl(listeners[0]!.address.host)}:${listeners[0]!.address.port}/`,
  );
  console.log(
    `WebSocket  ws://${hostInUrl(listeners[1]!.address.host)}:${listeners[1]!.address.port}/`,
  );
  const tls = listeners[2];
  if (tls !== undefined) {
    console.log(`TLS        tls://${hostInUrl(tls.address.host)}:${tls.address.port}/`);
  }
  console.log(`Gateway    ws://${h}:${gateway.address.port}/gateway/${GATEWAY_TARGET}/`);
  if (!args.flags.has("no-web")) console.log(`Web demo   http://${h}:${gateway.address.port}/`);
  console.log(`Origins    ${gateway.allowedOrigins.join(" ")}`);
  if (metricsEndpoint !== undefined) console.log(`Metrics    ${metricsEndpoint.url}`);
  const example = files.find((file) => file.name === "big.bin") ?? files[0];
  if (example !== undefined) {
    console.log(
      `Try: ferry get tcp://${hostInUrl(listeners[0]!.address.host)}:${
        listeners[0]!.address.port
      }/${encodeURIComponent(example.name)}`,
    );
  }

  await new Promise<void>((done) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      done();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  console.error("ferry serve: stopping");
  await gateway.close();
  await server.close();
  await metricsEndpoint?.close();
  return 0;
}
