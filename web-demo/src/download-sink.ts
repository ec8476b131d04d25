/// <reference lib="dom" />
/**
 * Where a download's chunks go as they arrive, so the page never holds a whole large file:
 *
 * 1. a file the user picked (File System Access API, `showSaveFilePicker`; Chromium), when the
 *    user asked for it — the picker needs the click's user activation, so it is opened first;
 * 2. else the origin private file system (OPFS, `navigator.storage.getDirectory()`): a file only
 *    this page can see, on disk, offered afterwards through the usual download link (the browser
 *    copies it from disk); one download is kept there at a time. Written by a worker with a sync
 *    access handle (`opfs-worker-sink.ts`) where the browser allows, else `createWritable()`;
 * 3. else memory, bounded by {@linkcode MAX_IN_MEMORY_BYTES}: a larger file is refused with a
 *    message saying why, instead of exhausting the tab.
 *
 * Every sink takes positional writes (chunks arrive in any order) one at a time.
 *
 * @module
 */

import { memorySink } from "./memory-sink.ts";
import { openOpfsWorkerSink } from "./opfs-worker-sink.ts";

/** Largest file the in-memory fallback accepts: 512 MiB. */
export const MAX_IN_MEMORY_BYTES = 512 * 1024 * 1024;

/** The file's bytes, written at offsets as chunks arrive. */
export interface DownloadSink {
  readonly kind: "picked file" | "OPFS" | "memory";
  /** For the summary: where the bytes went. */
  readonly description: string;
  /**
   * Writes `chunk` at `offset`. The chunk is the sink's from then on: it may detach its buffer
   * (transfer it to a writer worker).
   */
  write(chunk: Uint8Array, offset: number): Promise<void> | void;
  /**
   * Where the sink can, SHA-256 of chunk `index` computed where it writes (`opfs-worker-sink.ts`:
   * in its worker, off the page's thread). The chunk's buffer may move there (detached here) and
   * is held until `write(chunk, …)` of the same chunk object; hashing an index again replaces what
   * was held for it.
   */
  readonly hash?: (chunk: Uint8Array, index: number) => Promise<Uint8Array>;
  /** Completes the file: a Blob to offer for saving, or undefined when it is already saved. */
  finish(): Promise<Blob | undefined>;
  /** Discards what was written (cancel, failure). */
  abort(): Promise<void>;
}

interface Writable {
  write(data: { type: "write"; position: number; data: Uint8Array<ArrayBuffer> }): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

interface WritableFileHandle {
  createWritable(options?: { keepExistingData?: boolean }): Promise<Writable>;
  getFile(): Promise<File>;
}

interface PickerWindow {
  showSaveFilePicker(options: { suggestedName: string }): Promise<WritableFileHandle>;
}

interface OpfsDirectory {
  getFileHandle(name: string, options?: { create?: boolean }): Promise<WritableFileHandle>;
  removeEntry(name: string): Promise<void>;
}

/** Whether this browser can write straight into a file the user picks. */
export function canStreamToPickedFile(): boolean {
  return typeof (globalThis as Partial<PickerWindow>).showSaveFilePicker === "function";
}

/** The name downloads are kept under in OPFS (one at a time). */
const OPFS_NAME = "ferry-download.bin";

/**
 * Opens the sink for a file of `size` bytes. `pick` asks for a picked file (call it straight from
 * the click). Resolves undefined when the user cancelled the picker.
 */
export async function openDownloadSink(
  name: string,
  size: number,
  pick: boolean,
): Promise<DownloadSink | undefined> {
  if (pick && canStreamToPickedFile()) {
    let handle: WritableFileHandle;
    try {
      handle = await (globalThis as unknown as PickerWindow).showSaveFilePicker({
        suggestedName: name,
      });
    } catch (error) {
      if ((error as { name?: string })?.name === "AbortError") return undefined;
      throw error;
    }
    const writable = await handle.createWritable();
    return writableSink(
      "picked file",
      `streamed to the file you picked`,
      writable,
      () => Promise.resolve(undefined),
    );
  }
  const opfs = await opfsDirectory();
  if (opfs !== undefined) {
    await opfs.removeEntry(OPFS_NAME).catch(() => {});
    // A writer worker with a sync access handle where the browser has one: far cheaper per byte.
    const fast = await openOpfsWorkerSink(
      OPFS_NAME,
      async () => await (await opfs.getFileHandle(OPFS_NAME)).getFile(),
    );
    if (fast !== undefined) return fast;
    const handle = await opfs.getFileHandle(OPFS_NAME, { create: true });
    const writable = await handle.createWritable({ keepExistingData: false });
    return writableSink(
      "OPFS",
      "streamed to the browser's private storage (OPFS), not held in memory",
      writable,
      () => handle.getFile(),
    );
  }
  if (size > MAX_IN_MEMORY_BYTES) {
    throw new RangeError(
      `${name} is ${size} bytes; this browser cannot write a download to disk from a page ` +
        `(no File System Access API or OPFS here, e.g. over plain http from another host), and ` +
        `files over ${MAX_IN_MEMORY_BYTES} bytes are not held in memory`,
    );
  }
  return memorySink(size, "held in memory (this browser cannot write to disk from a page)");
}

async function opfsDirectory(): Promise<OpfsDirectory | undefined> {
  const storage = (globalThis.navigator as { storage?: { getDirectory?: () => Promise<unknown> } })
    ?.storage;
  if (typeof storage?.getDirectory !== "function") return undefined;
  try {
    const directory = await storage.getDirectory() as OpfsDirectory;
    // Some browsers have OPFS but no writable streams on its files (Safari): not usable here.
    const probe = await directory.getFileHandle(OPFS_NAME, { create: true });
    return typeof probe.createWritable === "function" ? directory : undefined;
  } catch {
    return undefined;
  }
}

function writableSink(
  kind: DownloadSink["kind"],
  description: string,
  writable: Writable,
  result: () => Promise<Blob | undefined>,
): DownloadSink {
  let open = true;
  return {
    kind,
    description,
    write: (chunk, offset) =>
      writable.write({ type: "write", position: offset, data: chunk as Uint8Array<ArrayBuffer> }),
    finish: async () => {
      open = false;
      await writable.close();
      return await result();
    },
    abort: async () => {
      if (!open) return;
      open = false;
      await writable.abort().catch(() => {});
    },
  };
}
