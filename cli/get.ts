/**
 * `ferry get <url> [out]`: downloads one file from a Ferry file service over TCP, TLS or
 * WebSocket (direct or through the gateway) with N chunks in flight across a pool's connections,
 * shows progress, verifies SHA-256, and resumes an interrupted download (see
 * `partial-download.ts`). Ctrl-C stops it and leaves the resumable partial file.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { constants, existsSync, readFileSync, statSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { join, resolve } from "node:path";
import process from "node:process";
import type { TransportClient } from "../src/client/transport-client.ts";
import { ConnectError, describeError, RemoteError } from "../src/errors.ts";
import { ChunkDigestMismatchError, FileChangedError } from "../src/files/file-errors.ts";
import { FileErrorCode, type FileInfo } from "../src/files/file-service.ts";
import { downloadFileFromPool } from "../src/files/pool-download.ts";
import { ConnectionPool } from "../src/pool/connection-pool.ts";
import { transportConnector } from "../src/pool/transport-connector.ts";
import type { Connect } from "../src/socket.ts";
import { integerFlag, parseArgs, stringFlag, UsageError } from "./args.ts";
import { type GetTarget, parseGetUrl } from "./get-url.ts";
import { PartialDownload, type PartialState } from "./partial-download.ts";
import { formatBytes, progressView } from "./progress.ts";
import type { CliRuntime } from "./runtime.ts";

export const getUsage = `Usage: ferry get <url> [out] [options]

Downloads one file from a Ferry file service and verifies its SHA-256.

  ferry get tcp://127.0.0.1:7337/big.bin
  ferry get ws://127.0.0.1:7338/big.bin big-copy.bin          (WebSocket, direct)
  ferry get ws://127.0.0.1:8080/gateway/files/big.bin        (through the gateway)
  ferry get tls://files.example:7443/big.bin --ca server.pem

[out] defaults to the file's name in the current directory; a directory as [out] receives it
under that name. Every chunk is checked against the SHA-256 the server announced for it as it
arrives (a damaged one is fetched again). While downloading, <out>.part holds the chunks written
so far and <out>.part.json records them; after an interruption (Ctrl-C, a lost connection) the
same command checks the chunks kept and fetches only the missing or damaged ones.

Options:
  --connections <n>  connections to spread the download over (default 4)
  --in-flight <n>    chunk requests in flight across them (default 16)
  --timeout <ms>     deadline of a connect and of each chunk (default 30000)
  --ca <file>        PEM certificate to trust for tls:// (e.g. a self-signed server's)
  --progress <mode>  auto | bar | lines | none (default auto: a bar on a terminal)
  --restart          discard a partial download instead of resuming it
  --force            overwrite <out> if it exists
  --help             this text

Exit status: 0 downloaded and verified, 1 failed, 2 bad usage, 130 interrupted (resumable).`;

const FLAGS = {
  connections: "string",
  "in-flight": "string",
  timeout: "string",
  ca: "string",
  progress: "string",
  restart: "boolean",
  force: "boolean",
  help: "boolean",
} as const;

/** Chunk writes running at once (`maxWrites`): as many as libuv's thread pool has threads. */
const WRITES_AT_ONCE = 4;

class Interrupted extends Error {
  constructor() {
    super("interrupted");
  }
}

export async function getCommand(argv: readonly string[], runtime: CliRuntime): Promise<number> {
  const args = parseArgs(argv, FLAGS);
  if (args.flags.has("help")) {
    console.log(getUsage);
    return 0;
  }
  if (args.positionals.length < 1 || args.positionals.length > 2) {
    throw new UsageError(`get takes a URL and an optional output file`);
  }
  const target = parseGetUrl(args.positionals[0]!);
  const connections = integerFlag(args, "connections", 4, 1, 64);
  const inFlight = integerFlag(args, "in-flight", 16, 1, 1024);
  const timeoutMs = integerFlag(args, "timeout", 30_000, 1, 3_600_000);
  const mode = stringFlag(args, "progress", "auto");
  if (!["auto", "bar", "lines", "none"].includes(mode)) {
    throw new UsageError(`--progress must be auto, bar, lines or none, got ${mode}`);
  }
  const caFile = stringFlag(args, "ca");
  if (caFile !== undefined && target.scheme !== "tls") {
    throw new UsageError(`--ca only applies to tls:// URLs`);
  }
  let out = resolve(args.positionals[1] ?? target.file);
  // A directory given as output receives the file under its own (checked, plain) name.
  if (statSync(out, { throwIfNoEntry: false })?.isDirectory()) out = join(out, target.file);
  if (existsSync(out) && !args.flags.has("force")) {
    console.error(`ferry get: ${out} already exists (use --force to overwrite it)`);
    return 1;
  }
  let ca: string | undefined;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile, "utf8");
    } catch (error) {
      console.error(`ferry get: cannot read --ca ${caFile}: ${describeError(error)}`);
      return 1;
    }
  }
  const connect = connectFor(target, runtime, ca);
  const pool = new ConnectionPool<TransportClient>({
    connector: transportConnector(() => connect),
    maxTotal: connections,
    maxPerRoute: connections,
    maxStreamsPerConnection: 1,
    connectTimeoutMs: timeoutMs,
    leaseTimeoutMs: timeoutMs,
  });

  const partial = new PartialDownload(out);
  if (args.flags.has("restart")) partial.discard();
  const resume = partial.exists() ? partial.load() : undefined;
  if (resume?.problem !== undefined) {
    console.error(
      `ferry get: ${resume.problem}; every chunk of ${partial.partPath} will be checked against ` +
        `the server's digests instead`,
    );
  }
  const view = progressView(process.stderr, mode as "auto");
  const controller = new AbortController();
  const onSigint = () => controller.abort(new Interrupted());
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);
  let handle: FileHandle | undefined;
  let began = false;
  let opened: FileInfo | undefined;
  try {
    const result = await downloadFileFromPool({
      pool,
      route: target.display,
      connections,
      inFlight,
      name: target.file,
      signal: controller.signal,
      chunkTimeoutMs: timeoutMs,
      // Iterated once the server described the file (so "all" knows the chunk count).
      written: {
        [Symbol.iterator]: () => resumeCandidates(resume, opened!, partial.partSize()),
      },
      readWritten: async (index, length) => {
        const bytes = new Uint8Array(length);
        await readFully(handle!, bytes, index * opened!.chunkSize);
        return bytes;
      },
      // Positional writes: no chunk waits for a slower one.
      writeOrder: "arrival",
      // Several at once on libuv's thread pool (4 threads): one write that waits for the page
      // cache does not hold back the chunks verified behind it, nor keep their lent memory.
      maxWrites: WRITES_AT_ONCE,
      // Each body is lent by its connection, held until it was hashed and written, then reused
      // for a later chunk: no fresh 1 MiB buffer (and its page faults and collection) per chunk.
      lendChunks: true,
      // Chunk digests inline with node:crypto's OpenSSL SHA-256 (SHA-NI where the CPU has it),
      // on the lent bytes. WebCrypto would hash on libuv's thread pool but first copies every
      // chunk into a fresh buffer on the event loop, which cost more than the hash: client CPU
      // for 256 MiB over TCP, 4 alternating rounds, 0.79-1.16 s inline vs 1.14-1.53 s WebCrypto.
      hashChunk: (bytes) => new Uint8Array(createHash("sha256").update(bytes).digest()),
      write: (chunk, _index, offset) => writeFully(handle!, chunk, offset),
      // The whole-file hash for a server without chunk digests (an older Ferry).
      createHash: () => {
        const hash = createHash("sha256");
        return {
          update: (bytes) => hash.update(bytes),
          digest: () => new Uint8Array(hash.digest()),
        };
      },
      onOpen: async (info) => {
        // Only now, with the server's description in hand, is anything created on disk.
        opened = info;
        // Not through a symlink planted at <out>.part: the bytes go into that name only.
        const flags = constants.O_RDWR | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0) |
          (resume === undefined ? constants.O_TRUNC : 0);
        handle = await open(partial.partPath, flags, 0o644);
        console.error(
          `ferry get: ${info.name} (${formatBytes(info.size)}, ${
            plural(info.chunkCount, "chunk")
          } ` +
            `of ${formatBytes(info.chunkSize)}) from ${target.display} over ` +
            `${plural(connections, "connection")}, ${inFlight} in flight`,
        );
      },
      onResumeChecked: (kept, rejected) => {
        partial.begin(opened!, kept);
        began = true;
        if (resume === undefined) return;
        console.error(
          `ferry get: resuming: ${
            plural(kept.size, "chunk")
          } of ${partial.partPath} verified and ` +
            `kept` + (rejected > 0 ? `, ${rejected} bad or missing fetched again` : "") +
            `, ${plural(opened!.chunkCount - kept.size, "chunk")} to fetch`,
        );
      },
      onChunkWritten: (index) => partial.record(index),
      onProgress: (progress) => {
        view.update({
          bytesWritten: progress.bytesWritten,
          size: progress.file.size,
          bytesFetched: progress.bytesFetched,
          elapsedMs: progress.elapsedMs,
        });
      },
    });
    // A `.part` left by a longer file keeps its tail until cut here.
    if ((await handle!.stat()).size !== result.file.size) await handle!.truncate(result.file.size);
    await handle!.close();
    handle = undefined;
    // No background save of the sidecar may land after `complete` removed it.
    await partial.settle();
    partial.complete(out);
    view.finish();
    const seconds = result.elapsedMs / 1000;
    const repaired = result.badChunks > 0
      ? `, ${plural(result.badChunks, "chunk")} refetched after failing its SHA-256`
      : "";
    const kept = result.chunksKept > 0 ? `, ${result.chunksKept} kept from the partial file` : "";
    console.error(
      `ferry get: saved ${out} (${formatBytes(result.file.size)}) in ${seconds.toFixed(2)} s, ` +
        `${formatBytes(result.bytesFetched / Math.max(seconds, 0.001))}/s; ` +
        `${plural(result.chunksFetched, "chunk")} fetched${kept}${repaired}`,
    );
    console.log(`${result.sha256}  ${out}  verified`);
    return 0;
  } catch (error) {
    view.finish();
    await handle?.close().catch(() => {});
    if (began) {
      await partial.settle();
      partial.save(true);
    } // A fresh .part that never got a record holds nothing worth keeping.
    else if (resume === undefined) partial.discard();
    const saved = plural(partial.count, "chunk");
    if (error instanceof Interrupted || controller.signal.aborted) {
      console.error(
        began
          ? `ferry get: interrupted; ${saved} saved in ${partial.partPath}. ` +
            `Run the same command again to resume.`
          : resume !== undefined
          ? `ferry get: interrupted; ${partial.partPath} is kept as it was.`
          : `ferry get: interrupted before the download began; nothing was saved.`,
      );
      return 130;
    }
    console.error(`ferry get: ${explain(error, target)}`);
    if (began) {
      console.error(
        `ferry get: ${saved} kept in ${partial.partPath}; run the same command again to resume ` +
          `(each kept chunk is checked again), or add --restart to start over.`,
      );
    }
    return 1;
  } finally {
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigint);
    await pool.close();
  }
}

/** The chunks a resumed download re-checks: the recorded ones, or all the `.part` can hold. */
function* resumeCandidates(
  resume: PartialState | undefined,
  file: FileInfo,
  partSize: number,
): Generator<number> {
  if (resume === undefined) return;
  if (resume.chunks !== "all") {
    if (resume.file?.chunkSize === file.chunkSize) yield* resume.chunks;
    return;
  }
  const whole = Math.min(file.chunkCount, Math.floor(partSize / file.chunkSize));
  for (let i = 0; i < whole; i++) yield i;
  if (whole < file.chunkCount && partSize >= file.size) yield file.chunkCount - 1;
}

/** "1 chunk", "2 chunks". */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function connectFor(target: GetTarget, runtime: CliRuntime, ca: string | undefined): Connect {
  switch (target.scheme) {
    case "tcp":
      return runtime.tcpConnect(target.host, target.port);
    case "tls":
      return runtime.tlsConnect(target.host, target.port, ca);
    default:
      return runtime.webSocketConnect(target.webSocketUrl!);
  }
}

function explain(error: unknown, target: GetTarget): string {
  if (error instanceof RemoteError && error.remoteCode === FileErrorCode.NotFound) {
    return `no file ${JSON.stringify(target.file)} at ${target.display}: ${error.remoteMessage}`;
  }
  const described = describeError(error);
  if (looksLikeHttp(described)) {
    return `${target.display} answered in HTTP: this looks like an HTTP server, not a Ferry or ` +
      `Spark peer (check the port; through a gateway use ws://HOST:PORT/gateway/<target>/<file>)`;
  }
  if (error instanceof ConnectError) {
    const hint = target.scheme === "tls" && /certificate|self.signed|CERT|verify/i.test(described)
      ? ` (if the server's certificate is self-signed, trust it with --ca FILE, e.g. the one ` +
        `ferry serve --cert-out wrote)`
      : "";
    return `cannot connect to ${target.display}: ${described}${hint}`;
  }
  if (error instanceof FileChangedError) {
    return `${described} (use --restart to download it again from the start)`;
  }
  if (error instanceof ChunkDigestMismatchError) {
    return `${described}. The server's copy may be damaged or changing; the good chunks are kept.`;
  }
  return `downloading ${target.display} failed: ${
    error instanceof Error ? `${error.name}: ${error.message}` : described
  }`;
}

/** Whether a frame length in `text` is really "HTTP/…" read as a 64-bit length. */
function looksLikeHttp(text: string): boolean {
  const length = /frame length (\d{15,20})/.exec(text)?.[1];
  if (length === undefined) return /\bHTTP\/1\.[01] \d{3}/.test(text);
  const value = BigInt(length);
  if (value >= 1n << 64n) return false;
  let ascii = "";
  for (let shift = 56n; shift >= 24n; shift -= 8n) {
    ascii += String.fromCharCode(Number((value >> shift) & 0xffn));
  }
  return ascii === "HTTP/";
}

async function writeFully(file: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await file.write(
      bytes,
      offset,
      bytes.byteLength - offset,
      position + offset,
    );
    offset += bytesWritten;
  }
}

async function readFully(file: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesRead } = await file.read(
      bytes,
      offset,
      bytes.byteLength - offset,
      position + offset,
    );
    if (bytesRead === 0) {
      throw new FileChangedError(`the partial file ended at byte ${position + offset}`);
    }
    offset += bytesRead;
  }
}
