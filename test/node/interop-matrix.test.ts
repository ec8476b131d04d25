/**
 * The cross-runtime interop matrix over real loopback sockets: an interop server under Node and
 * one under Deno, each a separate process serving TCP, TLS (its own generated certificate, which
 * the clients trust through `--ca`) and WebSocket at once (one TransportServer, three
 * listeners), and interop clients under Node and Deno against each of them over each transport.
 * (Chromium's cells are in test/browser/chromium-interop.test.ts.) Every cell
 * is one client process that must print the 17 interop checks (`docs/interop.md`) as PASS, then
 * `17 passed, 0 failed`, and exit 0. At the end both servers must stop cleanly on SIGTERM.
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

type Transport = "tcp" | "tls" | "ws";

const RUNTIMES: readonly InteropRuntimeName[] = ["node", "deno"];
const TRANSPORTS: readonly Transport[] = ["tcp", "tls", "ws"];

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
});

after(async () => {
  await group.stopAll();
  rmSync(certificates, { recursive: true, force: true });
});

describe("interop matrix over loopback", { concurrency: 2 }, () => {
  for (const transport of TRANSPORTS) {
    for (const serverRuntime of RUNTIMES) {
      for (const clientRuntime of RUNTIMES) {
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
          },
        );
      }
    }
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
