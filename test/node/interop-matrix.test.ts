/**
 * The cross-runtime interop matrix over real loopback sockets: an interop server under Node, one
 * under Deno and one under Bun, each a separate process serving TCP, TLS (its own generated
 * certificate, which the clients trust through `--ca`) and WebSocket at once (one
 * TransportServer, three listeners), and interop clients against them over each transport: Node
 * and Deno every way, Bun with Node both ways and with itself. A Cloudflare Worker under workerd
 * (`interop/worker.ts`, bundled by esbuild) is a client of the Node server over TCP
 * (`cloudflare:sockets`) and WebSocket (workerd's own), and shows what a client kept from one
 * request to the next gets. (Chromium's cells are in test/browser/chromium-interop.test.ts.)
 * Every cell is one client that must print the 17 interop checks (`docs/interop.md`) as PASS, then
 * `17 passed, 0 failed`, and exit 0; process clients must also name the runtime that ran them.
 * At the end every server must stop cleanly on SIGTERM.
 *
 * Cells run two at a time (2 cores: a client and a server are busy per cell). Every child process
 * is stopped at the end, whatever happened.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type InteropProcess,
  type InteropRuntimeName,
  ProcessGroup,
  type ServerAddresses,
  serverAddresses,
} from "../helpers/interop-processes.ts";
import { allPassLines } from "../helpers/interop-expected-lines.ts";
import { type InteropWorker, startInteropWorker } from "../helpers/workerd-process.ts";

type Transport = "tcp" | "tls" | "ws";

const RUNTIMES: readonly InteropRuntimeName[] = ["node", "deno", "bun"];
const TRANSPORTS: readonly Transport[] = ["tcp", "tls", "ws"];
/** Client → server: Node and Deno every way; Bun with Node both ways and with itself. */
const PAIRS: readonly (readonly [InteropRuntimeName, InteropRuntimeName])[] = [
  ["node", "node"],
  ["deno", "node"],
  ["node", "deno"],
  ["deno", "deno"],
  ["bun", "node"],
  ["node", "bun"],
  ["bun", "bun"],
];
/** What the Worker is a client over (TLS would need workerd to trust the test certificate). */
const WORKER_TRANSPORTS: readonly Transport[] = ["tcp", "ws"];

/** Guards only (a hung process must not hang the suite); never a pass/fail criterion. */
const STARTUP_TIMEOUT_MS = 60_000;
const CELL_GUARD = { timeout: 120_000 };

const group = new ProcessGroup();
const certificates = mkdtempSync(join(tmpdir(), "ferry-matrix-"));
const certificateOf = (runtime: InteropRuntimeName) => join(certificates, `${runtime}-server.pem`);
const servers = new Map<
  InteropRuntimeName,
  { process: InteropProcess; addresses: Promise<ServerAddresses> }
>();
let worker: Promise<InteropWorker>;

function serverArgs(runtime: InteropRuntimeName): string[] {
  return ["0", "127.0.0.1", "--tls", "0", "--cert-out", certificateOf(runtime), "--ws", "0"];
}

function clientArgs(
  addresses: ServerAddresses,
  transport: Transport,
  serverRuntime: InteropRuntimeName,
): string[] {
  switch (transport) {
    case "tcp":
      return [addresses.tcp.host, String(addresses.tcp.port)];
    case "tls":
      return [addresses.tls!, "--ca", certificateOf(serverRuntime)];
    case "ws":
      return [addresses.ws!];
  }
}

before(() => {
  for (const runtime of RUNTIMES) {
    const process = group.start(runtime, "server", serverArgs(runtime));
    const addresses = serverAddresses(process, TRANSPORTS, STARTUP_TIMEOUT_MS);
    addresses.catch(() => {}); // reported by the cells that need it
    servers.set(runtime, { process, addresses });
  }
  worker = startInteropWorker(group, STARTUP_TIMEOUT_MS);
  worker.catch(() => {}); // reported by the cells that need it
});

after(async () => {
  await group.stopAll();
  rmSync(certificates, { recursive: true, force: true });
  await worker.then((started) => started.removeFiles(), () => {});
});

/** `tcp://host:port` or the ws:// URL of the Node server, for the Worker's query. */
function workerTarget(addresses: ServerAddresses, transport: Transport): string {
  return transport === "tcp"
    ? `tcp://${addresses.tcp.host}:${addresses.tcp.port}`
    : addresses[transport as "ws"]!;
}

describe("interop matrix over loopback", { concurrency: 2 }, () => {
  for (const transport of TRANSPORTS) {
    for (const [clientRuntime, serverRuntime] of PAIRS) {
      it(
        `${transport}: ${clientRuntime} client → ${serverRuntime} server`,
        CELL_GUARD,
        async () => {
          const server = servers.get(serverRuntime)!;
          const addresses = await server.addresses;
          const client = group.start(
            clientRuntime,
            "client",
            clientArgs(addresses, transport, serverRuntime),
          );
          const exit = await client.exited;
          const context = `${client.describe()}${server.process.describe()}`;
          assert.deepEqual(client.stdout.trimEnd().split("\n"), allPassLines, context);
          assert.deepEqual(exit, { code: 0, signal: null }, context);
          // Truthful names: Bun runs the Node bindings but must not call itself node.
          assert.match(client.stderr, new RegExp(`^interop client under ${clientRuntime} `, "m"));
          assert.match(
            server.process.stderr,
            new RegExp(`^interop server under ${serverRuntime} `, "m"),
          );
        },
      );
    }
  }

  for (const transport of WORKER_TRANSPORTS) {
    it(`${transport}: worker client (workerd) → node server`, CELL_GUARD, async () => {
      const server = servers.get("node")!;
      const target = workerTarget(await server.addresses, transport);
      const started = await worker;
      const answer = await started.get(
        `/checks?target=${encodeURIComponent(target)}`,
        CELL_GUARD.timeout,
      );
      const context = `${answer.body}${started.process.describe()}${server.process.describe()}`;
      assert.equal(answer.status, 200, context);
      assert.deepEqual(answer.body.trimEnd().split("\n"), allPassLines, context);
    });
  }

  for (const transport of WORKER_TRANSPORTS) {
    it(
      `${transport}: a Worker's client kept for a later request fails with workerd's cause, not a timeout`,
      CELL_GUARD,
      async () => {
        const server = servers.get("node")!;
        const target = workerTarget(await server.addresses, transport);
        const started = await worker;
        const opened = await started.get(
          `/reuse/open?target=${encodeURIComponent(target)}`,
          CELL_GUARD.timeout,
        );
        assert.equal(opened.body, "OPENED\n", started.process.describe());
        const reused = await started.get(
          `/reuse/use?target=${encodeURIComponent(target)}`,
          CELL_GUARD.timeout,
        );
        console.log(`${transport}: ${reused.body.trimEnd()}`);
        // Either workerd lets the later request use the socket, or the RPC fails at once (well
        // inside its 20 s deadline) with a ConnectionClosedError carrying workerd's refusal.
        assert.match(
          reused.body,
          /^REUSE (worked|failed after \d+ ms: ConnectionClosedError .*different request)/,
          started.process.describe(),
        );
      },
    );
  }
});

describe("interop servers after the matrix", () => {
  for (const runtime of RUNTIMES) {
    it(`the ${runtime} server is still up and stops cleanly on SIGTERM`, CELL_GUARD, async () => {
      const server = servers.get(runtime)!;
      await server.addresses;
      assert.equal(server.process.running, true, server.process.describe());
      assert.deepEqual(
        await server.process.stop(),
        { code: 0, signal: null },
        server.process.describe(),
      );
    });
  }
});
