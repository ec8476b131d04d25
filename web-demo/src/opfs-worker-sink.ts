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
 * The worker is a Blob URL of {@linkcode WORKER_SOURCE}, so the demo stays one page module.
 * Where workers, OPFS in workers or sync access handles are missing, {@linkcode openOpfsWorkerSink}
 * resolves undefined and the caller uses `createWritable()`.
 *
 * @module
 */

import type { DownloadSink } from "./download-sink.ts";

/** Writes that may be queued in the worker at once (1 MiB chunks: at most 4 MiB held there). */
export const WRITES_AHEAD = 4;

const WORKER_SOURCE = `"use strict";
let access;
onmessage = async ({ data }) => {
  try {
    if (data.op === "open") {
      const root = await navigator.storage.getDirectory();
      const file = await root.getFileHandle(data.name, { create: true });
      access = await file.createSyncAccessHandle();
      access.truncate(0);
    } else if (data.op === "write") {
      const bytes = new Uint8Array(data.buffer);
      for (let done = 0; done < bytes.byteLength;) {
        const wrote = access.write(bytes.subarray(done), { at: data.offset + done });
        if (!(wrote > 0)) throw new Error("wrote " + wrote + " bytes at " + (data.offset + done));
        done += wrote;
      }
    } else if (data.op === "close") {
      access.flush();
      access.close();
      access = undefined;
    } else if (data.op === "abort") {
      access?.close();
      access = undefined;
    }
    postMessage({ id: data.id });
  } catch (error) {
    postMessage({ id: data.id, error: String(error?.message ?? error) });
  }
};
`;

interface Request {
  readonly op: "open" | "write" | "close" | "abort";
  readonly name?: string;
  readonly buffer?: ArrayBuffer;
  readonly offset?: number;
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
  const pending = new Map<number, { resolve(): void; reject(error: Error): void }>();
  let nextId = 0;
  let failure: Error | undefined;
  const failAll = (error: Error) => {
    failure ??= error;
    for (const call of pending.values()) call.reject(failure);
    pending.clear();
  };
  worker.onmessage = ({ data }: MessageEvent<{ id: number; error?: string }>) => {
    const call = pending.get(data.id);
    pending.delete(data.id);
    if (data.error === undefined) call?.resolve();
    else failAll(new Error(`Writing ${name} to OPFS failed: ${data.error}`));
  };
  worker.onerror = (event) => {
    event.preventDefault();
    failAll(new Error(`The OPFS writer of ${name} failed: ${event.message}`));
  };
  const request = (message: Request, transfer: Transferable[] = []) =>
    new Promise<void>((resolve, reject) => {
      if (failure !== undefined) return reject(failure);
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...message, id }, transfer);
    });
  try {
    await request({ op: "open", name });
  } catch {
    worker.terminate(); // no sync access handles here
    return undefined;
  }
  const queued = new Set<Promise<void>>();
  let open = true;
  return {
    kind: "OPFS",
    description: "streamed to the browser's private storage (OPFS), not held in memory",
    async write(chunk, offset) {
      if (failure !== undefined) throw failure;
      const buffer = ownBuffer(chunk);
      const written = request({ op: "write", buffer, offset }, [buffer]);
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
