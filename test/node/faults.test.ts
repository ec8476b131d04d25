/**
 * Faults: RPCs, chunk fetches, streams and uploads through a fault-injecting proxy (reset,
 * blackhole, stall, truncate mid-frame, 1-byte slices, delay, and switches between them while the
 * connection is in use). Every operation settles — with the right result or a typed
 * `TransportError` — and nothing is left as an unhandled rejection.
 *
 * Figures printed: operations by fault and outcome. FERRY_FAULT_OPS sets the number of operations
 * (default 10 000); FERRY_FAULT_SEED the seed; FERRY_FAULT_KINDS (e.g. `slice,delay`) keeps only
 * connections that start with those faults.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { tcpConnect, tcpListen } from "../../adapters/node/tcp.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { TransportError } from "../../src/errors.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import type { SocketListener } from "../../src/socket.ts";
import { pattern, readAll, text, utf8 } from "../helpers/engine-fixtures.ts";
import { FaultProxy, type FaultSpec } from "../helpers/fault-proxy.ts";
import {
  chunkSize,
  expectedChunk,
  expectedGen,
  expectedUploadReply,
  reliabilityHandler,
  reliabilityStreams,
} from "../helpers/reliability-server.ts";
import { mulberry32 } from "../unit/protocol/message-arbitraries.ts";

const OPS = Number(process.env.FERRY_FAULT_OPS ?? 10_000);
const SEED = Number(process.env.FERRY_FAULT_SEED ?? 7_2026);
const OPS_PER_CONNECTION = 40;
const PARALLEL_CONNECTIONS = 32;
/** Deadline of each operation on a connection that may lose bytes. */
const LOSSY_TIMEOUT_MS = 500;
/** Connections that only slow bytes down run without deadlines: every operation must succeed. */
const LOSSLESS_TIMEOUT_MS = 0;
/** An operation not settled after this is reported as unsettled (a hang). */
const WATCHDOG_MS = 120_000;

type Outcome = "ok" | "wrong-result" | "untyped-error" | "unsettled" | string;

const host = "127.0.0.1";
let server: TransportServer;
let listener: SocketListener;
let proxy: FaultProxy;
let unhandled = 0;
const onUnhandled = (reason: unknown) => {
  unhandled++;
  console.error("unhandled rejection:", reason);
};

before(async () => {
  process.on("unhandledRejection", onUnhandled);
  server = new TransportServer({
    rpcHandler: reliabilityHandler,
    streamManager: reliabilityStreams,
    onHandlerError: () => {},
    closeGraceMs: 1_000,
  });
  listener = await server.listen(tcpListen({ host, port: 0 }));
});

after(async () => {
  await proxy?.close();
  await server.close();
  process.off("unhandledRejection", onUnhandled);
});

/** Whether a fault only slows bytes down (every operation must then succeed). */
function lossless(fault: FaultSpec): boolean {
  const kinds = [fault.kind, fault.then?.fault.kind];
  return kinds.every((kind) => kind === undefined || ["pass", "slice", "delay"].includes(kind));
}

function label(fault: FaultSpec): string {
  const one = (f: FaultSpec) =>
    `${f.kind}${f.direction && f.direction !== "both" ? `→${f.direction}` : ""}`;
  return fault.then === undefined ? one(fault) : `${one(fault)}⇒${one(fault.then.fault)}`;
}

function faultFor(index: number, random: () => number): FaultSpec {
  const direction = (["both", "toClient", "toServer"] as const)[Math.floor(random() * 3)];
  const afterBytes = Math.floor(random() * 40_000);
  switch (index % 9) {
    case 0:
      return { kind: "pass" };
    case 1:
      return { kind: "reset", direction, afterBytes };
    case 2:
      return { kind: "blackhole", direction, afterBytes };
    case 3:
      return { kind: "stall", direction, afterBytes };
    case 4:
      return { kind: "truncate", direction: "toClient", afterBytes: 1 + (afterBytes % 5_000) };
    case 5:
      return { kind: "slice", direction };
    case 6:
      return { kind: "delay", delayMs: 1 + Math.floor(random() * 8) };
    case 7:
      // Switched at run time, while operations are in flight.
      return {
        kind: "delay",
        delayMs: 2,
        then: { afterMs: Math.floor(random() * 15), fault: { kind: "reset" } },
      };
    default:
      return {
        kind: "pass",
        then: { afterMs: Math.floor(random() * 15), fault: { kind: "blackhole", direction } },
      };
  }
}

/** One operation with its deadline; resolves with the outcome, never rejects. */
async function operation(
  client: TransportClient,
  random: () => number,
  timeoutMs: number,
  small: boolean,
): Promise<Outcome> {
  const classify = (error: unknown): Outcome => {
    if (error instanceof TransportError) return error.code;
    console.error("untyped error:", error);
    return "untyped-error";
  };
  const max = small ? 300 : 60_000;
  const pick = random();
  try {
    if (pick < 0.4) {
      const body = pattern(Math.floor(random() * max), Math.floor(random() * 256));
      const reply = await client.sendRpc(body, { timeoutMs });
      return equal(reply, body) ? "ok" : "wrong-result";
    }
    if (pick < 0.6) {
      const [streamId, chunkIndex] = small
        ? SMALL_CHUNKS[Math.floor(random() * SMALL_CHUNKS.length)]!
        : [Math.floor(random() * 1000), Math.floor(random() * 50)];
      const chunk = await client.fetchChunk(streamId, chunkIndex, { timeoutMs });
      return equal(chunk, expectedChunk(streamId, chunkIndex)) ? "ok" : "wrong-result";
    }
    if (pick < 0.8) {
      const size = Math.floor(random() * (small ? max : 300_000));
      const stream = await client.stream(`gen:${size}`, { timeoutMs });
      // Reading the body has no per-call deadline: the connection timeout bounds a stalled one.
      const bytes = await readAll(stream);
      return equal(bytes, expectedGen(size)) ? "ok" : "wrong-result";
    }
    const data = pattern(Math.floor(random() * max), 9);
    const meta = `up${Math.floor(random() * 1000)}`;
    const reply = await client.uploadStream(utf8(meta), pieces(data, 8_192), {
      byteLength: data.byteLength,
      timeoutMs,
    });
    return text(reply) === expectedUploadReply(meta, data) ? "ok" : "wrong-result";
  } catch (error) {
    return classify(error);
  }
}

/** (stream, chunk) pairs whose chunk is small: 1-byte slicing is slow by design. */
const SMALL_CHUNKS: [number, number][] = [];
for (let streamId = 0; streamId < 1000; streamId++) {
  for (let chunkIndex = 0; chunkIndex < 50; chunkIndex++) {
    if (chunkSize(streamId, chunkIndex) <= 300) SMALL_CHUNKS.push([streamId, chunkIndex]);
  }
}

async function* pieces(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.byteLength; at += size) yield data.subarray(at, at + size);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function watchdog<T>(promise: Promise<T>, unsettled: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<T>((resolve) => timer = setTimeout(() => resolve(unsettled), WATCHDOG_MS)),
  ]).finally(() => clearTimeout(timer));
}

test(`${OPS} operations through a fault-injecting proxy all settle, typed`, async () => {
  const random = mulberry32(SEED);
  const connections = Math.ceil(OPS / OPS_PER_CONNECTION);
  const only = process.env.FERRY_FAULT_KINDS?.split(",");
  const faults: FaultSpec[] = [];
  for (let i = 0; faults.length < connections; i++) {
    const fault = faultFor(i, random);
    if (only === undefined || only.includes(fault.kind)) faults.push(fault);
  }
  proxy = await FaultProxy.start({ port: listener.address.port, fault: (i) => faults[i]! });
  const connect = tcpConnect({ host, port: proxy.port, closeTimeoutMs: 1_000 });
  const table = new Map<string, Map<Outcome, number>>();
  const record = (fault: string, outcome: Outcome) => {
    let row = table.get(fault);
    if (row === undefined) table.set(fault, row = new Map());
    row.set(outcome, (row.get(outcome) ?? 0) + 1);
  };
  const started = performance.now();
  let next = 0;
  let operations = 0;
  // Connections are opened one at a time so that the proxy's accept order (which picks the fault)
  // is the order the workers see.
  let connectLock: Promise<unknown> = Promise.resolve();
  const open = (): Promise<{ client?: TransportClient; error?: unknown; index: number }> => {
    const opened = connectLock.then(async () => {
      const index = proxy.stats.accepted;
      try {
        const client = await TransportClient.connect(connect, {
          connectionTimeoutMs: lossless(faults[index]!) ? 0 : 800,
          timeoutMs: 5_000,
        });
        while (proxy.stats.accepted === index) await new Promise((r) => setImmediate(r));
        return { client, index };
      } catch (error) {
        return { error, index };
      }
    });
    connectLock = opened;
    return opened;
  };
  const worker = async () => {
    while (next < connections) {
      next++;
      const { client, error, index } = await open();
      const fault = faults[index]!;
      const name = label(fault);
      const safe = lossless(fault);
      const ops = Math.min(OPS_PER_CONNECTION, OPS - index * OPS_PER_CONNECTION);
      if (client === undefined) {
        // The proxy accepts before it connects upstream, so connecting itself does not fail.
        for (let i = 0; i < ops; i++) {
          record(name, error instanceof TransportError ? `connect:${error.code}` : "untyped-error");
        }
        operations += ops;
        continue;
      }
      const timeoutMs = safe ? LOSSLESS_TIMEOUT_MS : LOSSY_TIMEOUT_MS;
      const small = fault.kind === "slice";
      const outcomes = await Promise.all(
        Array.from(
          { length: ops },
          () => watchdog(operation(client, random, timeoutMs, small), "unsettled" as Outcome),
        ),
      );
      for (const outcome of outcomes) record(name, outcome);
      operations += ops;
      const closed = await watchdog(client.close().then(() => "closed"), "unsettled");
      record(name + " (close)", closed);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_CONNECTIONS }, worker));
  const seconds = (performance.now() - started) / 1000;

  const totals = new Map<Outcome, number>();
  const lines: string[] = [];
  for (const [fault, row] of [...table].sort()) {
    const cells = [...row].sort().map(([outcome, count]) => `${outcome} ${count}`);
    lines.push(`  ${fault.padEnd(28)} ${cells.join(", ")}`);
    if (fault.endsWith("(close)")) continue;
    for (const [outcome, count] of row) totals.set(outcome, (totals.get(outcome) ?? 0) + count);
  }
  console.log(
    `faults: ${operations} operations over ${connections} connections in ${seconds.toFixed(1)} s ` +
      `(seed ${SEED}); unhandled rejections ${unhandled}\n${lines.join("\n")}\n  totals: ${
        [...totals].map(([o, c]) => `${o} ${c}`).join(", ")
      }`,
  );

  assert.equal(operations, OPS);
  assert.equal(unhandled, 0, "no unhandled rejection");
  assert.equal(totals.get("unsettled") ?? 0, 0, "every operation settled");
  assert.equal(totals.get("untyped-error") ?? 0, 0, "every failure is a TransportError");
  assert.equal(totals.get("wrong-result") ?? 0, 0, "no operation succeeded with wrong bytes");
  for (const [fault, row] of table) {
    if (fault.endsWith("(close)")) {
      assert.equal(row.get("unsettled") ?? 0, 0, `${fault}: close settles`);
      continue;
    }
    const failed = [...row].filter(([o]) => o !== "ok").reduce((sum, [, c]) => sum + c, 0);
    const base = fault.split("⇒")[0]!;
    if (!fault.includes("⇒") && /^(pass|slice|delay)/.test(base)) {
      assert.equal(failed, 0, `${fault}: a lossless path loses no operation`);
    }
  }
  // The faults really fault: each lossy kind failed some operations with typed errors.
  for (
    const kind of ["reset", "blackhole", "stall", "truncate"].filter((k) =>
      !only || only.includes(k)
    )
  ) {
    const failed = [...table].filter(([f]) => f.startsWith(kind) && !f.endsWith("(close)"))
      .reduce(
        (sum, [, row]) => sum + [...row].filter(([o]) => o !== "ok").reduce((s, [, c]) => s + c, 0),
        0,
      );
    assert.ok(failed > 0, `${kind} connections failed some operations`);
  }

  // The server still serves a client that does not go through the proxy, and once the proxy is
  // gone it holds no connection of the faulted ones.
  const direct = await TransportClient.connect(tcpConnect({ host, port: listener.address.port }));
  assert.equal(text(await direct.sendRpc(utf8("still here"))), "still here");
  await direct.close();
  await proxy.close();
  // Bounded by time, generously (the count of 10 ms sleeps it replaced shrank under load).
  const giveUpAt = performance.now() + 10_000;
  while (server.connections.size > 0 && performance.now() < giveUpAt) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  console.log(`faults: server connections left after the proxy closed: ${server.connections.size}`);
  assert.equal(server.connections.size, 0);
});
