/**
 * `ferry get <url> [out]`: downloads one file from a Ferry file service over TCP, TLS or
 * WebSocket (direct or through the gateway) with N chunks in flight across a pool's connections,
 * shows progress, verifies SHA-256, and resumes an interrupted download (see
 * `partial-download.ts`). Ctrl-C stops it and leaves the resumable partial file.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { resolve } from "node:path";
import process from "node:process";
import type { TransportClient } from "../src/client/transport-client.ts";
import { ConnectError, describeError, RemoteError } from "../src/errors.ts";
import { FileChangedError } from "../src/files/file-errors.ts";
import { FileErrorCode } from "../src/files/file-service.ts";
import { downloadFileFromPool } from "../src/files/pool-download.ts";
import { ConnectionPool } from "../src/pool/connection-pool.ts";
import { transportConnector } from "../src/pool/transport-connector.ts";
import type { Connect } from "../src/socket.ts";
import { integerFlag, parseArgs, stringFlag, UsageError } from "./args.ts";
import { type GetTarget, parseGetUrl } from "./get-url.ts";
import { PartialDownload } from "./partial-download.ts";
import { formatBytes, progressView } from "./progress.ts";
import type { CliRuntime } from "./runtime.ts";

export const getUsage = `Usage: ferry get <url> [out] [options]

Downloads one file from a Ferry file service and verifies its SHA-256.

  ferry get tcp://127.0.0.1:7337/big.bin
  ferry get ws://127.0.0.1:7338/big.bin big-copy.bin          (WebSocket, direct)
  ferry get ws://127.0.0.1:8080/gateway/files/big.bin        (through the gateway)
  ferry get tls://files.example:7443/big.bin --ca server.pem

[out] defaults to the file's name. While downloading, <out>.part holds the chunks written so far
and <out>.part.json records them; after an interruption (Ctrl-C, a lost connection) the same
command resumes from the first missing chunk.

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
  const out = resolve(args.positionals[1] ?? target.file);
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
  let state = partial.load();
  if (state !== undefined && (args.flags.has("restart") || state.name !== target.file)) {
    partial.discard();
    state = undefined;
  }
  const view = progressView(process.stderr, mode as "auto");
  const controller = new AbortController();
  const onSigint = () => controller.abort(new Interrupted());
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);
  let handle: FileHandle | undefined;
  let began = false;
  let written = state?.chunksWritten ?? 0;
  try {
    handle = await open(partial.partPath, state === undefined ? "w" : "r+");
    if (state !== undefined) {
      await handle.truncate(Math.min(state.size, state.chunksWritten * state.chunkSize));
    }
    const file = handle;
    const startChunk = state?.chunksWritten ?? 0;
    const result = await downloadFileFromPool({
      pool,
      route: target.display,
      connections,
      inFlight,
      name: target.file,
      signal: controller.signal,
      chunkTimeoutMs: timeoutMs,
      startChunk,
      ...(state === undefined ? {} : { expect: state }),
      readWritten: async (index, length) => {
        const bytes = new Uint8Array(length);
        await readFully(file, bytes, index * state!.chunkSize);
        return bytes;
      },
      write: (chunk, _index, offset) => writeFully(file, chunk, offset),
      createHash: () => {
        const hash = createHash("sha256");
        return {
          update: (bytes) => hash.update(bytes),
          digest: () => new Uint8Array(hash.digest()),
        };
      },
      onOpen: (info) => {
        partial.begin(info, startChunk);
        began = true;
        const resumed = startChunk > 0
          ? `, resuming at chunk ${startChunk}/${info.chunkCount}`
          : "";
        console.error(
          `ferry get: ${info.name} (${formatBytes(info.size)}, ${info.chunkCount} chunks of ` +
            `${formatBytes(info.chunkSize)}) from ${target.display} over ${connections} ` +
            `connection(s), ${inFlight} in flight${resumed}`,
        );
      },
      onProgress: (progress) => {
        written = progress.chunksWritten;
        partial.record(progress.chunksWritten);
        view.update({
          bytesWritten: progress.bytesWritten,
          size: progress.file.size,
          bytesFetched: progress.bytesFetched,
          elapsedMs: progress.elapsedMs,
        });
      },
    });
    await handle.close();
    handle = undefined;
    partial.complete(out);
    view.finish();
    const seconds = result.elapsedMs / 1000;
    console.error(
      `ferry get: saved ${out} (${formatBytes(result.file.size)}) in ${seconds.toFixed(2)} s, ` +
        `${formatBytes(result.bytesFetched / Math.max(seconds, 0.001))}/s`,
    );
    console.log(`${result.sha256}  ${out}  verified`);
    return 0;
  } catch (error) {
    view.finish();
    await handle?.close().catch(() => {});
    if (began) partial.record(written, true);
    else if (state === undefined) partial.discard();
    if (error instanceof Interrupted || controller.signal.aborted) {
      console.error(
        began || state !== undefined
          ? `ferry get: interrupted; ${written} chunks saved in ${partial.partPath}. ` +
            `Run the same command again to resume.`
          : `ferry get: interrupted before the download began; nothing was saved.`,
      );
      return 130;
    }
    console.error(`ferry get: ${explain(error, target)}`);
    if (began) {
      console.error(`ferry get: ${written} chunks kept in ${partial.partPath}; rerun to resume.`);
    }
    return 1;
  } finally {
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigint);
    await pool.close();
  }
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
  if (error instanceof ConnectError) {
    return `cannot connect to ${target.display}: ${describeError(error)}`;
  }
  if (error instanceof FileChangedError) {
    return `${describeError(error)} (use --restart to download it again from the start)`;
  }
  return `downloading ${target.display} failed: ${
    error instanceof Error ? `${error.name}: ${error.message}` : describeError(error)
  }`;
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
