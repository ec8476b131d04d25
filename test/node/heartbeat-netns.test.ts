/**
 * The Ferry ⇄ Ferry heartbeat detects a half-open connection within interval + timeout on a real
 * network path: the server runs in its own Linux network namespace, reached over a veth pair with
 * 10.x addresses; after the first successful RPC a tc `blackhole` qdisc on both ends of the pair
 * silently drops every packet (no FIN, no RST, no ICMP — both kernels keep their sockets open).
 * The heartbeat client closes with a `TimeoutError`; a control client on the same path without a
 * heartbeat is still "active" at that moment, which shows TCP alone did not notice.
 *
 * Needs root (CAP_NET_ADMIN), `ip` and `tc`, and a kernel with the blackhole qdisc; otherwise the
 * test is skipped with the reason printed. The namespace (and with it the veth pair) is deleted
 * even when the test fails, and on process exit.
 *
 * Figure printed: time from the drop rule to the close, against interval + timeout.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { tcpConnect } from "../../adapters/node/tcp.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { ConnectionClosedError, TimeoutError } from "../../src/errors.ts";
import { startFerryHeartbeat } from "../../src/extensions/ferry-heartbeat.ts";
import { utf8 } from "../helpers/engine-fixtures.ts";

const INTERVAL_MS = 250;
/** Generous: a pong from the child process must not miss it on a loaded machine. */
const TIMEOUT_MS = 2_000;
const root = fileURLToPath(new URL("../../", import.meta.url));
const serverScript = join(root, "test", "helpers", "heartbeat-server-process.ts");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The absolute path of `name` on PATH (plus the sbin directories), or undefined. */
function which(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/sbin"];
  for (const dir of dirs) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

function run(command: string, args: readonly string[]): void {
  execFileSync(command, args, { stdio: ["ignore", "ignore", "pipe"], timeout: 10_000 });
}

/** A namespace with one end of a veth pair; `dropAll` blackholes both ends. */
class NetnsPath {
  readonly ns: string;
  readonly hostIf: string;
  readonly nsIf: string;
  readonly hostAddress: string;
  readonly nsAddress: string;
  readonly #ip: string;
  readonly #tc: string;
  #exitHook = () => this.remove();

  constructor(ip: string, tc: string) {
    const tag = `${process.pid % 100_000}${Math.floor(Math.random() * 100)}`;
    this.ns = `ferry-hb-${tag}`;
    this.hostIf = `fhb${tag}h`.slice(0, 15);
    this.nsIf = `fhb${tag}n`.slice(0, 15);
    const b = 100 + Math.floor(Math.random() * 150);
    const c = Math.floor(Math.random() * 64) * 4;
    this.hostAddress = `10.${b}.${c}.1`;
    this.nsAddress = `10.${b}.${c}.2`;
    this.#ip = ip;
    this.#tc = tc;
  }

  create(): void {
    process.once("exit", this.#exitHook);
    const ip = this.#ip;
    run(ip, ["netns", "add", this.ns]);
    run(ip, ["link", "add", this.hostIf, "type", "veth", "peer", "name", this.nsIf]);
    run(ip, ["link", "set", this.nsIf, "netns", this.ns]);
    run(ip, ["addr", "add", `${this.hostAddress}/30`, "dev", this.hostIf]);
    run(ip, ["link", "set", this.hostIf, "up"]);
    run(ip, [
      "netns",
      "exec",
      this.ns,
      ip,
      "addr",
      "add",
      `${this.nsAddress}/30`,
      "dev",
      this.nsIf,
    ]);
    run(ip, ["netns", "exec", this.ns, ip, "link", "set", this.nsIf, "up"]);
    run(ip, ["netns", "exec", this.ns, ip, "link", "set", "lo", "up"]);
  }

  /** The drop rule: every packet either way is discarded on egress, silently. */
  dropAll(): void {
    run(this.#tc, ["qdisc", "add", "dev", this.hostIf, "root", "blackhole"]);
    run(this.#ip, [
      "netns",
      "exec",
      this.ns,
      this.#tc,
      "qdisc",
      "add",
      "dev",
      this.nsIf,
      "root",
      "blackhole",
    ]);
  }

  /** Deletes the namespace (its veth end goes with it, and so does the peer). Idempotent. */
  remove(): void {
    process.removeListener("exit", this.#exitHook);
    for (const args of [["netns", "del", this.ns], ["link", "del", this.hostIf]]) {
      try {
        run(this.#ip, args);
      } catch {
        // already gone
      }
    }
  }
}

/** Why this machine cannot run the test, or undefined when it can. */
function missingPrerequisite(): string | undefined {
  if (process.platform !== "linux") return `network namespaces need Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return `not root (uid ${process.getuid?.()}); ip netns needs it`;
  if (which("ip") === undefined) return "`ip` (iproute2) not found";
  if (which("tc") === undefined) return "`tc` (iproute2) not found";
  return undefined;
}

/** Starts the heartbeat server inside `ns`; resolves with its port once it listens. */
function startServer(ip: string, path: NetnsPath): { child: ChildProcess; port: Promise<number> } {
  const child = spawn(
    ip,
    ["netns", "exec", path.ns, process.execPath, "--import", "tsx", serverScript, path.nsAddress],
    { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (text: string) => stderr += text);
  const port = new Promise<number>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => reject(new Error(`server did not listen: ${stderr}`)), 20_000);
    child.stdout!.setEncoding("utf8").on("data", (text: string) => {
      stdout += text;
      const match = /LISTENING \S+ (\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before listening: ${stderr}`));
    });
  });
  return { child, port };
}

test("heartbeat detects a half-open connection behind a drop rule in a network namespace", async (t) => {
  const missing = missingPrerequisite();
  if (missing !== undefined) {
    console.log(`heartbeat-netns skipped: ${missing}`);
    t.skip(missing);
    return;
  }
  const ip = which("ip")!;
  const path = new NetnsPath(ip, which("tc")!);
  try {
    path.create();
  } catch (error) {
    path.remove();
    const reason = `cannot create a network namespace with a veth pair: ${
      String((error as { stderr?: Buffer }).stderr ?? error).trim()
    }`;
    console.log(`heartbeat-netns skipped: ${reason}`);
    t.skip(reason);
    return;
  }
  let server: ChildProcess | undefined;
  const clients: TransportClient[] = [];
  try {
    const started = startServer(ip, path);
    server = started.child;
    const port = await started.port;
    const connect = tcpConnect({ host: path.nsAddress, port });
    const client = await TransportClient.connect(connect);
    const control = await TransportClient.connect(connect);
    clients.push(client, control);

    const echo = await client.sendRpc(utf8("across the veth"));
    assert.deepEqual(echo, utf8("across the veth"), "the first RPC goes through the namespace");
    assert.deepEqual(await control.sendRpc(utf8("control")), utf8("control"));
    startFerryHeartbeat(client, { intervalMs: INTERVAL_MS, timeoutMs: TIMEOUT_MS });
    await sleep(INTERVAL_MS * 3);
    assert.equal(client.isActive, true, "a healthy idle connection stays open under heartbeat");

    try {
      path.dropAll();
    } catch (error) {
      const reason = `tc cannot install a blackhole qdisc here: ${
        String((error as { stderr?: Buffer }).stderr ?? error).trim()
      }`;
      console.log(`heartbeat-netns skipped: ${reason}`);
      t.skip(reason);
      return;
    }
    const droppedAt = performance.now();
    const inFlight = client.sendRpc(utf8("lost")).catch((error: unknown) => error);
    // The path really drops: a request on the control connection gets no answer.
    const probe = control.sendRpc(utf8("lost too"), { timeoutMs: TIMEOUT_MS }).catch((e) => e);
    const closed = await client.closed;
    const detectedMs = performance.now() - droppedAt;
    const controlActive = control.isActive;
    console.log(
      `heartbeat (netns ${path.ns}, ${path.hostAddress} → ${path.nsAddress}, tc blackhole both ` +
        `ways): half-open connection detected after ${detectedMs.toFixed(0)} ms (interval ` +
        `${INTERVAL_MS} + timeout ${TIMEOUT_MS} = ${INTERVAL_MS + TIMEOUT_MS} ms bound); control ` +
        `client without heartbeat still active: ${controlActive}`,
    );
    assert.ok(closed.error instanceof TimeoutError, String(closed.error));
    assert.match(
      closed.error.message,
      new RegExp(`Heartbeat to .* failed: no pong within ${TIMEOUT_MS} ms`),
    );
    assert.ok(await inFlight instanceof ConnectionClosedError, "what was in flight failed with it");
    assert.ok(await probe instanceof TimeoutError, "the drop rule drops the control's request");
    assert.equal(controlActive, true, "without a heartbeat TCP did not notice the dead path");
    // Generous against scheduling noise; the printed figure is the real one.
    assert.ok(detectedMs < (INTERVAL_MS + TIMEOUT_MS) * 4, `detected after ${detectedMs} ms`);
  } finally {
    // Reset rather than end: a graceful close would wait for a FIN nobody can acknowledge.
    await Promise.all(clients.map((c) => c.close(new Error("test over"))));
    server?.kill("SIGKILL");
    path.remove();
  }
});
