/**
 * Interop cells with Spark's SASL on both ends, over loopback TCP: a Node and a Deno interop
 * server, one offering `auth-conf,auth` and one always encrypting (`--sasl-encrypt`), and Node
 * and Deno clients authenticating with qop auth and auth-conf. Every passing cell prints the 17
 * interop checks (docs/interop.md) as PASS and exits 0; a wrong secret fails every check naming the appId.
 * A few cells only: each is two processes on a 2-core machine.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  type InteropProcess,
  type InteropRuntimeName,
  ProcessGroup,
  type ServerAddresses,
  serverAddresses,
} from "../helpers/interop-processes.ts";
import { allPassLines } from "../helpers/interop-expected-lines.ts";

const SECRET = "f1c7aa04bf6786382da8866a63f933ae3de6fc80fdb1350343ab6ed47556a7ac";
const STARTUP_TIMEOUT_MS = 60_000;
const CELL_GUARD = { timeout: 120_000 };

/** Node serves auth-conf and auth; Deno serves auth-conf only. */
const SERVERS: Partial<Record<InteropRuntimeName, string[]>> = {
  node: ["0", "127.0.0.1", "--sasl-secret", SECRET],
  deno: ["0", "127.0.0.1", "--sasl-secret", SECRET, "--sasl-encrypt"],
};

const group = new ProcessGroup();
const servers = new Map<
  InteropRuntimeName,
  { process: InteropProcess; addresses: Promise<ServerAddresses> }
>();

before(() => {
  for (const runtime of ["node", "deno"] as const) {
    const process = group.start(runtime, "server", SERVERS[runtime]!);
    const addresses = serverAddresses(process, ["tcp"], STARTUP_TIMEOUT_MS);
    addresses.catch(() => {});
    servers.set(runtime, { process, addresses });
  }
});

after(async () => {
  await group.stopAll();
});

async function runClient(
  clientRuntime: InteropRuntimeName,
  serverRuntime: InteropRuntimeName,
  extra: string[],
) {
  const server = servers.get(serverRuntime)!;
  const { tcp } = await server.addresses;
  const client = group.start(clientRuntime, "client", [tcp.host, String(tcp.port), ...extra]);
  const exit = await client.exited;
  return { client, exit, context: `${client.describe()}${server.process.describe()}` };
}

describe("interop with Spark SASL over loopback TCP", { concurrency: 2 }, () => {
  const cells: [InteropRuntimeName, InteropRuntimeName, boolean][] = [
    ["node", "node", false],
    ["deno", "node", true],
    ["node", "deno", true],
    ["deno", "deno", true],
  ];
  for (const [clientRuntime, serverRuntime, encrypt] of cells) {
    it(
      `${encrypt ? "auth-conf" : "auth"}: ${clientRuntime} client → ${serverRuntime} server`,
      CELL_GUARD,
      async () => {
        const { client, exit, context } = await runClient(clientRuntime, serverRuntime, [
          "--sasl-secret",
          SECRET,
          ...(encrypt ? ["--sasl-encrypt"] : []),
        ]);
        assert.deepEqual(client.stdout.trimEnd().split("\n"), allPassLines, context);
        assert.deepEqual(exit, { code: 0, signal: null }, context);
      },
    );
  }

  it("a wrong secret fails every check with the appId and Spark's reason", CELL_GUARD, async () => {
    const { client, exit, context } = await runClient("node", "node", [
      "--sasl-secret",
      "not-the-secret",
      "--sasl-app-id",
      "app-7",
    ]);
    const lines = client.stdout.trimEnd().split("\n");
    assert.equal(lines.at(-1), "0 passed, 17 failed", context);
    assert.match(lines[0]!, /^FAIL .*appId 'app-7'.*Mismatched response/, context);
    assert.deepEqual(exit, { code: 1, signal: null }, context);
  });
});

describe("SASL interop servers after the cells", () => {
  for (const runtime of ["node", "deno"] as const) {
    it(`the ${runtime} server is still up and stops cleanly on SIGTERM`, CELL_GUARD, async () => {
      const server = servers.get(runtime)!;
      await server.addresses;
      assert.equal(server.process.running, true, server.process.describe());
      assert.deepEqual(await server.process.stop(), { code: 0, signal: null });
    });
  }
});
