/// <reference lib="dom" />
/**
 * The fast way into OPFS: a dedicated worker holding the file's `FileSystemSyncAccessHandle`
 * (`createSyncAccessHandle`, only available in workers), writing each chunk synchronously at its
 * offset. The page's other way, `createWritable()`, sends every write to the browser process
 * into a swap file: in the `web-demo-vs-fetch` bench (`bench/cases/web-demo-vs-fetch.ts`) that
 * writer was busy for ~85% of a 256 MiB download and doubled Chromium's CPU time for it.
 *
 * The chunks are the caller's (`downloadFile` without `lendChunks`): a chunk that spans its whole
 * buffer (a chunk body that arrived as one WebSocket message, as from the gateway) is transferred
 * to the worker as it is, with no copy; its view in the page is detached. A chunk that is a view
 * into a larger buffer (which may hold other chunks) is copied into one of its own first, and that
 * copy is transferred. Up to {@linkcode WRITES_AHEAD} writes may wait in the worker, so the page keeps
 * fetching while the disk works, and the memory they hold stays bounded.
 *
 * Where the worker has WebCrypto, the sink also hashes (`DownloadSink.hash`): each chunk moves to
 * the worker when it arrives, is hashed there (WebCrypto copies its input: in the page, that copy
 * and its fresh memory were ~40% of the main thread's time in the bench) and waits there, held by
 * its index, until the download verified the digest and writes it (`write-held`: no second
 * transfer). A chunk hashed again (damaged, refetched) replaces what was held for its index, so
 * the worker holds at most one buffer per chunk the download holds; `finish` and `abort` drop
 * the rest.
 *
 * The worker is a Blob URL of {@linkcode WORKER_SOURCE}, so the demo stays one page module.
 * Where workers, OPFS in workers or sync access handles are missing, {@linkcode openOpfsWorkerSink}
 * resolves undefined and the caller uses `createWritable()`.
 *
 * @module
 */

import type { DownloadSink } from "./download-sink.ts";

/** Writes that may be queued in the worker at once (768 KiB chunks: at most 3 MiB held there). */
export const WRITES_AHEAD = 4;

const WORKER_SOURCE = `"use strict";
let access;
const held = new Map();
const write = (buffer, offset) => {
  const bytes = new Uint8Array(buffer);
  for (let done = 0; done < bytes.byteLength;) {
    const wrote = access.write(bytes.subarray(done), { at: offset + done });
    if (!(wrote > 0)) throw new Error("wrote " + wrote + " bytes at " + (offset + done));
    done += wrote;
  }
};
onmessage = async ({ data }) => {
  try {
    let result;
    if (data.op === "open") {
      const root = await navigator.storage.getDirectory();
      const file = await root.getFileHandle(data.name, { create: true });
      access = await file.createSyncAccessHandle();
      access.truncate(0);
      result = typeof crypto?.subtle?.digest === "function";
    } else if (data.op === "hash") {
      held.set(data.chunk, data.buffer);
      result = await crypto.subtle.digest("SHA-256", data.buffer);
    } else if (data.op === "write") {
      write(data.buffer, data.offset);
    } else if (data.op === "write-held") {
      const buffer = held.get(data.chunk);
      held.delete(data.chunk);
      if (buffer === undefined) throw new Error("chunk " + data.chunk + " is not held");
      write(buffer, data.offset);
    } else if (data.op === "close") {
      access.flush();
      access.close();
      access = undefined;
      held.clear();
    } else if (data.op === "abort") {
      access?.close();
      access = undefined;
      held.clear();
    }
    postMessage({ id: data.id, result }, result instanceof ArrayBuffer ? [result] : []);
  } catch (error) {
    postMessage({ id: data.id, error: String(error?.message ?? error) });
  }
};
`;

interface Request {
  readonly op: "open" | "hash" | "write" | "write-held" | "close" | "abort";
  readonly name?: string;
  readonly buffer?: ArrayBuffer;
  readonly offset?: number;
  /** `hash`, `write-held`: the chunk's index. */
  readonly chunk?: number;
}

/**
 * Opens OPFS file `name` (created, emptied) in a writer worker; `file` reads it back once
 * written. Resolves undefined where this browser cannot (the caller falls back).
 */
export async function openOpfsWorkerSink(
  name: string,
  file: () => Promise<File>,
): Promise<DownloadSink | undefined> {
  if (typeof Worker !== "function" || typeof URL.createObjectURL !== "function") return undefined;
  let worker: Worker;
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
  try {
    worker = new Worker(url);
  } catch {
    return undefined;
  } finally {
    URL.revokeObjectURL(url);
  }
  const pending = new Map<number, { resolve(result: unknown): void; reject(error: Error): void }>();
  let nextId = 0;
  let failure: Error | undefined;
  const failAll = (error: Error) => {
    failure ??= error;
    for (const call of pending.values()) call.reject(failure);
    pending.clear();
  };
  worker.onmessage = ({ data }: MessageEvent<{ id: number; error?: string; result?: unknown }>) => {
    const call = pending.get(data.id);
    pending.delete(data.id);
    if (data.error === undefined) call?.resolve(data.result);
    else failAll(new Error(`Writing ${name} to OPFS failed: ${data.error}`));
  };
  worker.onerror = (event) => {
    event.preventDefault();
    failAll(new Error(`The OPFS writer of ${name} failed: ${event.message}`));
  };
  const request = (message: Request, transfer: Transferable[] = []) =>
    new Promise<unknown>((resolve, reject) => {
      if (failure !== undefined) return reject(failure);
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...message, id }, transfer);
    });
  let canHash: boolean;
  try {
    canHash = await request({ op: "open", name }) === true;
  } catch {
    worker.terminate(); // no sync access handles here
    return undefined;
  }
  const queued = new Set<Promise<unknown>>();
  /** Chunks hashed in the worker, whose buffers wait there for their write: their index. */
  const heldIn = new WeakMap<Uint8Array, number>();
  let open = true;
  return {
    kind: "OPFS",
    description: "streamed to the browser's private storage (OPFS), not held in memory",
    hash: canHash
      ? async (chunk, index) => {
        const buffer = ownBuffer(chunk);
        heldIn.set(chunk, index);
        return new Uint8Array(
          await request({ op: "hash", buffer, chunk: index }, [buffer]) as ArrayBuffer,
        );
      }
      : undefined,
    async write(chunk, offset) {
      if (failure !== undefined) throw failure;
      const index = heldIn.get(chunk);
      let written: Promise<unknown>;
      if (index !== undefined) {
        heldIn.delete(chunk);
        written = request({ op: "write-held", chunk: index, offset });
      } else {
        const buffer = ownBuffer(chunk);
        written = request({ op: "write", buffer, offset }, [buffer]);
      }
      queued.add(written);
      written.then(() => queued.delete(written), () => queued.delete(written));
      if (queued.size >= WRITES_AHEAD) await Promise.race(queued);
    },
    async finish() {
      open = false;
      try {
        await Promise.all(queued);
        await request({ op: "close" });
      } finally {
        worker.terminate();
      }
      return await file();
    },
    async abort() {
      if (!open) return;
      open = false;
      await request({ op: "abort" }).catch(() => {});
      worker.terminate();
    },
  };
}

/**
 * An `ArrayBuffer` holding exactly `chunk`'s bytes, safe to transfer: its own buffer when the
 * chunk spans all of it (no copy; transferring detaches `chunk`), else a copy.
 */
export function ownBuffer(chunk: Uint8Array): ArrayBuffer {
  const buffer = chunk.buffer;
  if (
    buffer instanceof ArrayBuffer && chunk.byteOffset === 0 &&
    chunk.byteLength === buffer.byteLength && !isResizable(buffer)
  ) {
    return buffer;
  }
  return chunk.slice().buffer;
}

function isResizable(buffer: ArrayBuffer): boolean {
  return (buffer as { resizable?: boolean }).resizable === true;
}
