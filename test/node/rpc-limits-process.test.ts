/**
 * Issue 15, item 5, measured on a server in a child process (`rpc-limits-server-process.ts`):
 *
 * - msgpack bombs of 16 and 63 MiB (array32 headers announcing 2^32 − 1 items, nested; array32
 *   headers of one item each, nested 3 million deep; a flat map32 of millions of 2-byte entries)
 *   sent as typed-service RPCs, to a router with the default request limit (8 MiB, which it
 *   declares to the connection: the bombs are skipped unread and refused with an RpcFailure naming
 *   `maxServiceRequestBytes`) and to one whose limit is the frame limit (so 63 MiB reaches the
 *   scanner: an ERR_RPC_LIMIT reply); the server's peak RSS grows by at most 64 MiB, except for
 *   63 MiB bombs to the lax router, which must buffer the frame before scanning it (at most the
 *   frame plus 64 MiB); a ping on another connection keeps answering throughout;
 * - 10 000 one-way messages that each make the handler fail: at most 100 lines on stderr.
 *
 * Figures printed: RSS before / peak, ping latencies (median, max), each bomb's reply time, the
 * stderr line count.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { tcpConnect } from "../../adapters/node/tcp.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { RemoteError } from "../../src/errors.ts";
import { decodeServiceReply, RpcErrorCode, serviceClient } from "../../src/rpc/mod.ts";
import { SERVICE_REQUEST_MAGIC } from "../../src/rpc/rpc-envelope.ts";
import { probeService } from "../helpers/rpc-limits-server-process.ts";

const MiB = 1024 * 1024;

interface Child {
  readonly process: ChildProcess;
  readonly ports: readonly number[];
  readonly stderr: () => string;
  /** Ends the child's stdin (it closes its servers and exits); resolves on exit. */
  readonly stop: () => Promise<void>;
}

async function startServer(): Promise<Child> {
  const script = new URL("../helpers/rpc-limits-server-process.ts", import.meta.url).pathname;
  const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", script], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => stderr += chunk);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ports = await new Promise<number[]>((resolve, reject) => {
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      const match = /LISTENING (\d+) (\d+)/.exec(out);
      if (match) resolve([Number(match[1]), Number(match[2])]);
    });
    child.once("exit", () => reject(new Error(`server exited before listening: ${stderr}`)));
  });
  return {
    process: child,
    ports,
    stderr: () => stderr,
    stop: async () => {
      child.stdin!.end();
      const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

const connect = (port: number) => TransportClient.connect(tcpConnect({ host: "127.0.0.1", port }));

/** The prefix and `[ "limits.probe", "ping", ` of a request, then `params` filling `size` bytes. */
function bomb(size: number, params: (bytes: Uint8Array, from: number) => void): Uint8Array {
  const body = new Uint8Array(size);
  const head = [
    ...SERVICE_REQUEST_MAGIC,
    0x93,
    0xac,
    ...new TextEncoder().encode("limits.probe"),
    0xa4,
    ...new TextEncoder().encode("ping"),
  ];
  body.set(head);
  params(body, head.length);
  return body;
}

/** Fills `bytes` from `from` with `pattern` repeated (whole copies only; the rest stays 0). */
function repeat(pattern: number[], bytes: Uint8Array, from: number): void {
  bytes.set(pattern, from);
  let filled = pattern.length;
  const room = Math.floor((bytes.byteLength - from) / pattern.length) * pattern.length;
  while (filled < room) {
    const copy = Math.min(filled, room - filled);
    bytes.copyWithin(from + filled, from, from + copy);
    filled += copy;
  }
}

const shapes: Record<string, (bytes: Uint8Array, from: number) => void> = {
  "array32 headers of 2^32-1 items, nested": (bytes, from) =>
    repeat([0xdd, 0xff, 0xff, 0xff, 0xff], bytes, from),
  "array32 headers of one item, nested": (bytes, from) =>
    repeat([0xdd, 0x00, 0x00, 0x00, 0x01], bytes, from),
  "flat map32 of tiny entries": (bytes, from) => {
    const entries = Math.floor((bytes.byteLength - from - 5) / 2);
    bytes.set([
      0xdf,
      entries >>> 24,
      (entries >>> 16) & 0xff,
      (entries >>> 8) & 0xff,
      entries & 0xff,
    ], from);
  },
};

test("16 and 63 MiB msgpack bombs: refused, bounded RSS, pings on another connection answer", async () => {
  // Built before anything is measured: building 63 MiB stalls this process, not the server.
  const bombs = [16 * MiB, 63 * MiB].map((size) =>
    Object.entries(shapes).map(([shape, fill]) => ({ size, shape, body: bomb(size, fill) }))
  );
  const server = await startServer();
  const clients: TransportClient[] = [];
  try {
    const [strict, lax] = await Promise.all(server.ports.map(connect));
    const prober = await connect(server.ports[0]!);
    clients.push(strict!, lax!, prober);
    const ping = serviceClient(probeService, prober, { timeoutMs: 300_000 });
    // The same pings with no bomb in flight: what the machine's load alone costs.
    let quietMax = 0;
    for (let i = 0; i < 60; i++) {
      const started = performance.now();
      await ping.ping();
      if (i >= 10) quietMax = Math.max(quietMax, performance.now() - started);
      await sleep(5);
    }
    const before = await ping.collect();

    let probing = true;
    const latencies: number[] = [];
    // The forced collections between bombs stall the server themselves: pings overlapping one
    // are not counted.
    let collections = 0;
    let collecting = false;
    const probe = (async () => {
      while (probing) {
        const seen = collections;
        const started = performance.now();
        await ping.ping();
        const ms = performance.now() - started;
        if (!collecting && seen === collections) latencies.push(ms);
        await sleep(5);
      }
    })();

    /** Peak RSS growth per router and bomb size (16, 63 MiB). */
    const growth = { default: [0, 0], lax: [0, 0] };
    const mib = (bytes: number) => (bytes / MiB).toFixed(1);
    // All of the default router's bombs first: the lax connection keeps a 63 MiB frame buffer for
    // reuse once it received one, which must not count against the default router.
    for (const [name, attacker] of [["default", strict!], ["lax", lax!]] as const) {
      for (const [i, sized] of bombs.entries()) {
        let peak = 0;
        let ownGrowth = 0;
        for (const { size, shape, body } of sized) {
          // Each bomb is measured on its own: what one request costs, not when V8 collects the
          // previous one's garbage (without this, six 16 MiB frames in a row peak at ~84 MiB).
          collecting = true;
          collections++;
          const { rss: rssBefore } = await ping.collect();
          collecting = false;
          const started = performance.now();
          // The default router declares its 8 MiB limit to the connection: the bomb is skipped
          // unread and refused with an RpcFailure. The lax one receives it and scans it.
          const outcome = await attacker.sendRpc(body, { timeoutMs: 300_000 }).then(
            (replyBody) => replyBody,
            (error: unknown) => error,
          );
          const ms = performance.now() - started;
          const { peakRss } = await ping.ping();
          peak = Math.max(peak, peakRss);
          ownGrowth = Math.max(ownGrowth, peakRss - rssBefore);
          let refusal: string;
          if (name === "default") {
            assert.ok(outcome instanceof RemoteError, String(outcome));
            assert.match(outcome.message, /over maxServiceRequestBytes \(8388608 bytes\)/);
            refusal = `RpcFailure (${outcome.message})`;
          } else {
            assert.ok(outcome instanceof Uint8Array, String(outcome));
            const reply = decodeServiceReply(outcome, shape);
            assert.equal(reply.ok, false);
            assert.equal(!reply.ok && reply.code, RpcErrorCode.Limit, JSON.stringify(reply));
            refusal = `ERR_RPC_LIMIT (${!reply.ok && reply.message})`;
          }
          console.log(
            `${size / MiB} MiB, ${shape}, ${name} limits: ${refusal} in ${ms.toFixed(0)} ms`,
          );
        }
        growth[name][i] = peak - before.rss;
        console.log(
          `${sized[0]!.size / MiB} MiB bombs, ${name} router: server RSS ${mib(before.rss)} MiB ` +
            `before, peak ${mib(peak)} MiB: growth ${mib(growth[name][i]!)} MiB (the most one ` +
            `bomb added to the RSS it found: ${mib(ownGrowth)} MiB)`,
        );
      }
    }
    probing = false;
    await probe;
    latencies.sort((a, b) => a - b);
    const median = latencies[latencies.length >> 1]!;
    const max = latencies.at(-1)!;
    const p95 = latencies[Math.floor(latencies.length * 0.95)]!;
    console.log(
      `${latencies.length} pings on another connection: median ${median.toFixed(1)} ms, ` +
        `95th percentile ${p95.toFixed(1)} ms, max ${max.toFixed(1)} ms (50 pings before any ` +
        `bomb: max ${quietMax.toFixed(1)} ms)`,
    );
    // The default router's bombs are never buffered (skipped by the decoder): the 64 MiB
    // holds for both sizes. The lax router must receive its frame before it scans it, so a bomb
    // costs its frame there (the buffer and the socket reads it is copied from): 16 MiB stays
    // within 64 MiB, a 63 MiB frame is 63 MiB by itself and gets the bound on top.
    for (const [i, size] of [16, 63].entries()) {
      const strictGrowth = growth.default[i]!;
      const laxGrowth = growth.lax[i]!;
      assert.ok(strictGrowth <= 64 * MiB, `${size} MiB, default: +${strictGrowth / MiB} MiB`);
      const laxBound = size === 16 ? 64 * MiB : 127 * MiB;
      assert.ok(laxGrowth <= laxBound, `${size} MiB, lax: +${laxGrowth / MiB} MiB`);
    }
    // The target is 100 ms (printed above: ~15 ms max on an idle machine). The assertion
    // only has to tell "answers" from "stalled" (6–106 s before the scan) on a shared 2-core
    // machine whose load can exceed 16 (seen with eight agents), so it allows 5 s.
    assert.ok(max <= 5_000, `a ping took ${max.toFixed(0)} ms`);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await server.stop();
  }
});

test("10 000 one-way messages that each make the handler fail: ≤ 100 lines on stderr", async () => {
  const server = await startServer();
  let client: TransportClient | undefined;
  try {
    client = await connect(server.ports[0]!);
    const message = new Uint8Array(100).fill(0x61);
    for (let i = 0; i < 10_000; i++) client.send(message);
    // Handled in order: once this answers, every one-way message has failed on the server.
    await serviceClient(probeService, client).ping();
    await client.close();
    await server.stop();
    const lines = server.stderr().split("\n").filter((line) => line.length > 0);
    console.log(`10 000 failing one-way messages: ${lines.length} lines on stderr:`);
    for (const line of lines.slice(0, 2).concat(lines.slice(-1))) console.log(`  ${line}`);
    assert.ok(lines.length <= 100, `${lines.length} lines`);
    assert.match(lines.at(-1)!, /… 99\d\d more handler failures suppressed/);
  } finally {
    await client?.close();
    await server.stop();
  }
});
