/**
 * The interop programs as a person runs them: the server and the client are separate Node
 * processes talking over real TCP on 127.0.0.1.
 */

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import * as net from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { interopCheckNames as expectedCheckNames } from "../../interop/checks.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const guard = { timeout: 120_000 };

/** Every child this file starts; any still running when the tests end is killed. */
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
});

interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

type Runtime = "node" | "deno";

/** Runs an interop program under Node (through tsx) or Deno, from the repository root. */
function start(
  program: "server" | "client",
  args: readonly string[],
  runtime: Runtime = "node",
): ChildProcess {
  const file = `interop/${program}.ts`;
  const [command, ...prefix] = runtime === "node"
    ? [process.execPath, "--import", "tsx", file]
    : [join(root, "node_modules", ".bin", "deno"), "run", "-A", file];
  const child = spawn(command!, [...prefix, ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  return child;
}

/** Collects a child's output until it exits. */
async function finished(child: ChildProcess): Promise<Finished> {
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (text: string) => stdout += text);
  child.stderr!.setEncoding("utf8").on("data", (text: string) => stderr += text);
  const [code, signal] = await once(child, "exit") as [number | null, NodeJS.Signals | null];
  return { code, signal, stdout, stderr };
}

/** Waits for the server's `LISTENING <host> <port>` line. */
async function listening(server: ChildProcess): Promise<{ host: string; port: number }> {
  let output = "";
  let errors = "";
  server.stderr!.setEncoding("utf8").on("data", (text: string) => errors += text);
  server.stdout!.setEncoding("utf8");
  return await new Promise((resolve, reject) => {
    const onData = (text: string) => {
      output += text;
      const match = /^LISTENING (\S+) (\d+)$/m.exec(output);
      if (match === null) return;
      server.stdout!.off("data", onData);
      server.off("exit", onExit);
      resolve({ host: match[1]!, port: Number(match[2]) });
    };
    const onExit = (code: number | null) =>
      reject(new Error(`the server exited (${code}) before listening: ${output}${errors}`));
    server.stdout!.on("data", onData);
    server.once("exit", onExit);
  });
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  probe.listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as net.AddressInfo;
  probe.close();
  await once(probe, "close");
  return port;
}

describe("interop programs over TCP, Node and Deno in every pairing", () => {
  const pairs: ReadonlyArray<readonly [server: Runtime, client: Runtime]> = [
    ["node", "node"],
    ["deno", "node"],
    ["node", "deno"],
    ["deno", "deno"],
  ];
  for (const [serverRuntime, clientRuntime] of pairs) {
    const title = `a ${clientRuntime} client passes all 17 checks against a ${serverRuntime} ` +
      `server, which then stops cleanly on SIGTERM`;
    it(title, guard, async () => {
      const server = start("server", ["0"], serverRuntime);
      const serverEnd = (async () => {
        const [code, signal] = await once(server, "exit");
        return { code, signal };
      })();
      const { host, port } = await listening(server);
      assert.equal(host, "127.0.0.1");
      assert.ok(port > 0);

      const result = await finished(start("client", [host, String(port)], clientRuntime));
      const lines = result.stdout.trimEnd().split("\n");
      assert.deepEqual(
        lines,
        [...expectedCheckNames.map((name) => `PASS ${name}`), "17 passed, 0 failed"],
        result.stderr,
      );
      assert.equal(result.code, 0);

      server.kill("SIGTERM");
      assert.deepEqual(await serverEnd, { code: 0, signal: null });
    });
  }

  it("takes a tcp:// URL", guard, async () => {
    const server = start("server", ["0", "127.0.0.1"]);
    const { port } = await listening(server);
    const client = start("client", [`tcp://127.0.0.1:${port}`, "--timeout-ms", "30000"]);
    const result = await finished(client);
    assert.match(result.stdout, /^17 passed, 0 failed$/m);
    assert.equal(result.code, 0);
    server.kill("SIGTERM");
    await once(server, "exit");
  });

  it("fails every check (exit 1) when nothing listens", guard, async () => {
    const port = await closedPort();
    const client = start("client", ["127.0.0.1", String(port)]);
    const result = await finished(client);
    const lines = result.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 18);
    for (const [i, name] of expectedCheckNames.entries()) {
      assert.match(
        lines[i]!,
        new RegExp(`^FAIL ${name}: cannot connect to tcp://127.0.0.1:${port}: `),
      );
    }
    assert.equal(lines[17], "0 passed, 17 failed");
    assert.equal(result.code, 1);
  });

  it(
    "exits 2 with a clear message for a bad command line; every scheme has an adapter",
    guard,
    async () => {
      const bad = await finished(start("client", ["127.0.0.1"]));
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /Expected a URL like tcp:\/\/host:port/);
      // Every scheme has an adapter: wss:// is tried (and fails to connect here) rather than refused.
      const wss = await finished(start("client", ["wss://127.0.0.1:1/ferry"]));
      assert.equal(wss.code, 1);
      assert.match(wss.stdout, /^FAIL \S+: cannot connect to wss:\/\/127\.0\.0\.1:1\/ferry: /);
      const server = await finished(start("server", ["99999"]));
      assert.equal(server.code, 2);
      assert.match(server.stderr, /Invalid port "99999"/);
    },
  );
});
