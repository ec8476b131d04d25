/**
 * What encoding and decoding one frame costs, in process, with no socket: the codec alone, which
 * is the part of the RPC and chunk-fetch paths that `src/protocol/` owns. Compares this tree with
 * another copy of it (`--base`, e.g. the commit before a codec change):
 *
 *     git archive <base-commit> src | tar -x -C /tmp/ferry-codec-base
 *     node --import tsx bench/probes/codec-hot-path.ts --base /tmp/ferry-codec-base [--pairs 4]
 *
 * Without `--base` it measures this tree only. Each variant runs in a child process of its own
 * (one copy of the code per process, so neither's JIT state affects the other), the two
 * alternating, the first of a pair alternating too. Each child times, after a warm-up, encoding
 * (`encodeFrame` into a reused output) and decoding (`FrameDecoder.push` of a batch of frames,
 * RpcResponses through the `rpcResponse` fast path) of: RpcRequest and RpcResponse with 64-byte
 * bodies, ChunkFetchRequest, ChunkFetchSuccess with 1 KiB and 64 KiB chunks, and a mix of the
 * other (table-driven) messages. Figures are ns per frame of the process's CPU time (user +
 * system), median of `--rounds`; the summary prints each row's median over the pairs and the
 * candidate/base ratio. A probe, not a test: an A/A run (`--base` a copy of this very tree) shows
 * the noise floor.
 *
 * @module
 */

import process from "node:process";
import { execFileSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";

interface Codec {
  encodeFrame: typeof import("../../src/protocol/encoder.ts").encodeFrame;
  encodeMessage: typeof import("../../src/protocol/encoder.ts").encodeMessage;
  FrameDecoder: typeof import("../../src/protocol/decoder.ts").FrameDecoder;
}

type Message = import("../../src/protocol/messages.ts").Message;
type FrameOutput = import("../../src/protocol/encoder.ts").FrameOutput;

const args = process.argv.slice(2);
function option(name: string): string | undefined {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args[at + 1];
}
const rounds = Number(option("--rounds") ?? 5);
const here = fileURLToPath(new URL("../..", import.meta.url));

const bytes = (length: number) => Uint8Array.from({ length }, (_, i) => (i * 31) & 0xff);

/** The rows: a name and the messages one operation cycles through. */
const rows: ReadonlyArray<readonly [string, readonly Message[]]> = [
  ["RpcRequest 64 B", [{ type: 3, requestId: 123_456, body: bytes(64) }]],
  ["RpcResponse 64 B", [{ type: 4, requestId: 123_456, body: bytes(64) }]],
  ["ChunkFetchRequest", [{ type: 0, streamId: 1_234_567_890_123, chunkIndex: 17 }]],
  ["ChunkFetchSuccess 1 KiB", [{
    type: 1,
    streamId: 1_234_567_890_123,
    chunkIndex: 17,
    body: bytes(1024),
  }]],
  ["ChunkFetchSuccess 64 KiB", [{
    type: 1,
    streamId: 1_234_567_890_123,
    chunkIndex: 17,
    body: bytes(64 * 1024),
  }]],
  ["other types (mix)", [
    { type: 2, streamId: 5, chunkIndex: 1, error: "no such chunk" },
    { type: 5, requestId: 9, error: "handler failed: something went wrong" },
    { type: 6, streamId: "/files/part-00017.parquet" },
    { type: 7, streamId: "/files/part-00017.parquet", byteCount: 0 },
    { type: 8, streamId: "/files/x", error: "not found" },
    { type: 9, body: bytes(64) },
    { type: 10, requestId: 77, meta: bytes(32), bodyByteCount: 0 },
    {
      type: 11,
      requestId: 78,
      appId: "app-20261207-0001",
      shuffleId: 3,
      shuffleMergeId: 0,
      reduceId: 12,
    },
    { type: 12, requestId: 79, numChunks: 4, body: bytes(256) },
  ]],
];

function cpuNs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) * 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

/** An output that rewrites one buffer again and again (the encoder's cost, not the memory's). */
class ReusedOutput implements FrameOutput {
  bytes = new Uint8Array(256 * 1024);
  view = new DataView(this.bytes.buffer);
  offset = 0;
  passed = 0;
  #next = 0;
  reserve(length: number): void {
    if (this.#next + length > this.bytes.length) this.#next = 0;
    this.offset = this.#next;
    this.#next += length;
  }
  passThrough(chunk: Uint8Array): void {
    this.passed += chunk.length;
  }
  reset(): void {
    this.#next = 0;
  }
}

async function child(root: string): Promise<void> {
  const codec: Codec = {
    ...(await import(pathToFileURL(`${root}/src/protocol/encoder.ts`).href)),
    ...(await import(pathToFileURL(`${root}/src/protocol/decoder.ts`).href)),
  };
  const output = new ReusedOutput();
  const results: Record<string, { encode: number; decode: number }> = {};
  let sink = 0;
  const handler = {
    message: (message: Message) => {
      sink += message.type;
    },
    rpcResponse: (_id: unknown, body: Uint8Array) => {
      sink += body.length;
    },
    body: (chunk: Uint8Array) => {
      sink += chunk.length;
    },
    bodyEnd: () => {},
  };
  for (const [name, messages] of rows) {
    const big = messages.some((m) => "body" in m && m.body.length > 16 * 1024);
    const encodes = big ? 200_000 : 1_000_000;
    // One batch of frames back to back, as a socket read delivers them.
    const frameBytes = messages.flatMap((m) => codec.encodeMessage(m));
    const batchFrames = big ? 16 : 256;
    const one = concat(frameBytes);
    const batch = concat(Array.from({ length: batchFrames / messages.length }, () => one));
    const framesPerBatch = Math.floor(batchFrames / messages.length) * messages.length;
    const decodes = Math.ceil((big ? 100_000 : 1_000_000) / framesPerBatch);
    const decoder = new codec.FrameDecoder(handler, { maxFrameLength: 1 << 30 });
    const encodeRounds: number[] = [];
    const decodeRounds: number[] = [];
    for (let round = 0; round <= rounds; round++) {
      let started = cpuNs();
      for (let i = 0; i < encodes; i++) {
        codec.encodeFrame(messages[i % messages.length]!, output);
      }
      const encodeNs = (cpuNs() - started) / encodes;
      output.reset();
      started = cpuNs();
      // A copy per push would be the socket's cost; the decoder does not keep the batch mutable.
      for (let i = 0; i < decodes; i++) decoder.push(batch);
      const decodeNs = (cpuNs() - started) / (decodes * framesPerBatch);
      if (round === 0) continue; // warm-up
      encodeRounds.push(encodeNs);
      decodeRounds.push(decodeNs);
    }
    results[name] = { encode: median(encodeRounds), decode: median(decodeRounds) };
  }
  if (sink === -1) console.error("unreachable");
  console.log(JSON.stringify(results));
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

type Figures = Record<string, { encode: number; decode: number }>;

function run(root: string): Figures {
  const out = execFileSync(
    process.execPath,
    [
      "--import",
      "tsx",
      fileURLToPath(import.meta.url),
      "--child",
      root,
      "--rounds",
      String(rounds),
    ],
    { encoding: "utf8", cwd: here },
  );
  return JSON.parse(out.trim().split("\n").at(-1)!) as Figures;
}

function print(label: string, figures: Figures): void {
  for (const [name, { encode, decode }] of Object.entries(figures)) {
    console.log(
      `${label.padEnd(9)} ${name.padEnd(26)} encode ${encode.toFixed(1).padStart(7)} ns` +
        `  decode ${decode.toFixed(1).padStart(7)} ns`,
    );
  }
}

const childRoot = option("--child");
if (childRoot !== undefined) {
  await child(childRoot);
} else {
  const base = option("--base");
  const pairs = Number(option("--pairs") ?? 3);
  const candidate = option("--candidate") ?? here;
  const seen: Record<string, Figures[]> = { base: [], candidate: [] };
  for (let pair = 0; pair < (base === undefined ? 1 : pairs); pair++) {
    const order = base === undefined
      ? [["candidate", candidate]]
      : pair % 2 === 0
      ? [["base", base], ["candidate", candidate]]
      : [["candidate", candidate], ["base", base]];
    for (const [label, root] of order) {
      const figures = run(root!);
      seen[label!]!.push(figures);
      print(label!, figures);
    }
  }
  if (base !== undefined) {
    console.log("median over the pairs (candidate / base):");
    for (const [name] of rows) {
      const pick = (label: string, what: "encode" | "decode") =>
        median(seen[label]!.map((figures) => figures[name]![what]));
      const line = (["encode", "decode"] as const).map((what) => {
        const b = pick("base", what);
        const c = pick("candidate", what);
        return `${what} ${b.toFixed(1)} → ${c.toFixed(1)} ns (${(c / b).toFixed(2)})`;
      });
      console.log(`  ${name.padEnd(26)} ${line.join("   ")}`);
    }
  }
}
