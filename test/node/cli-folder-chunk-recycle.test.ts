/**
 * `ferry serve`'s chunk buffers are reused only once the socket is done with them (issue 17, item
 * 4): the folder catalog reads each chunk into a pooled buffer, the server lends it to the socket
 * (`Socket.writeLent`), and the pool gets it back when the socket's write has completed — never
 * when the frame is merely handed to the socket, while the OS may still be copying from it.
 *
 * The server's socket here completes its writes late, on the test's word, and takes its copy of
 * the bytes only then (as the kernel would): had a buffer gone back to the pool at hand-over, the
 * next chunk, read strictly after that hand-over, would have been read into it and the client
 * would receive the wrong bytes. Then the same run checks that buffers do come back once written.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { folderCatalog } from "../../cli/folder-catalog.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { fileService, fileServiceImplementation } from "../../src/files/mod.ts";
import { OneForOneStreamManager } from "../../src/responder/one-for-one-stream-manager.ts";
import { serviceClient, ServiceRouter } from "../../src/rpc/mod.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import type { Socket } from "../../src/socket.ts";
import { ForwardingSocket } from "../helpers/forwarding-socket.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";

/** 64 KiB: above the size below which bodies are gathered (copied) rather than written whole. */
const CHUNK = 64 * 1024;
const CHUNKS = 6;

/** Deterministic bytes, different in every chunk. */
function pattern(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = 0x5eed;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

/**
 * Holds every write until `complete()`; only then copies the bytes to the peer and gives lent
 * chunks back, in order — a socket whose OS writes complete late. `lent` records each lent chunk
 * (and whether it was given back); `onLent` hears of each as it is handed over.
 */
class LateSocket extends ForwardingSocket {
  readonly held: { chunk: Uint8Array; giveBack?: () => void }[] = [];
  readonly lent: { chunk: Uint8Array; givenBack: boolean }[] = [];
  onLent: (() => void) | undefined;

  override write(chunk: Uint8Array): boolean {
    this.held.push({ chunk });
    return true;
  }

  writeLent(chunk: Uint8Array, giveBack: () => void): boolean {
    const record = { chunk, givenBack: false };
    this.lent.push(record);
    this.held.push({
      chunk,
      giveBack: () => {
        assert.equal(record.givenBack, false, "a lent chunk is given back once");
        record.givenBack = true;
        giveBack();
      },
    });
    this.onLent?.();
    return true;
  }

  /** The OS takes everything held now: copies it to the peer, then gives lent chunks back. */
  complete(): void {
    for (const { chunk, giveBack } of this.held.splice(0)) {
      this.inner.write(chunk.slice());
      if (giveBack !== undefined) queueMicrotask(giveBack);
    }
  }
}

test("a chunk buffer goes back to the pool only once the socket's write completed", async () => {
  const work = mkdtempSync(join(tmpdir(), "ferry-recycle-"));
  const bytes = pattern(CHUNK * CHUNKS);
  writeFileSync(join(work, "f.bin"), bytes);
  const streams = new OneForOneStreamManager();
  const catalog = await folderCatalog(work, { chunkSize: CHUNK });
  const router = new ServiceRouter().serve(
    fileService,
    fileServiceImplementation(catalog, streams),
  );
  const server = new TransportServer({ rpcHandler: router, streamManager: streams });
  const [a, b] = memorySocketPair();
  const late = new LateSocket(b);
  server.accept(late as Socket);
  const client = new TransportClient(a);
  const released = setInterval(() => late.complete(), 1); // RPCs flow; chunks are held below
  try {
    const files = serviceClient(fileService, client);
    const { streamId } = await files.open({ name: "f.bin" });
    clearInterval(released);
    late.complete();

    // Each fetch is read only after the previous chunk was handed to the socket (and held there).
    const fetches: Promise<Uint8Array>[] = [];
    for (let index = 0; index < CHUNKS; index++) {
      const handedOver = new Promise<void>((resolve) => (late.onLent = resolve));
      fetches.push(client.fetchChunk(streamId, index));
      await handedOver;
    }
    assert.equal(late.lent.length, CHUNKS, "every chunk body was lent to the socket");
    assert.ok(late.lent.every((record) => !record.givenBack), "nothing given back while held");
    const buffers = new Set(late.lent.map((record) => record.chunk.buffer));
    assert.equal(buffers.size, CHUNKS, "held chunks never share memory");

    late.complete();
    const received = await Promise.all(fetches);
    for (let index = 0; index < CHUNKS; index++) {
      assert.ok(
        Buffer.from(received[index]!).equals(bytes.subarray(index * CHUNK, (index + 1) * CHUNK)),
        `chunk ${index} arrived intact`,
      );
    }
    assert.ok(late.lent.every((record) => record.givenBack), "all given back once written");

    // Written buffers are reused: the next chunks are read into memory lent before.
    const again = client.fetchChunk(streamId, 0);
    await new Promise<void>((resolve) => (late.onLent = resolve));
    assert.ok(buffers.has(late.lent[CHUNKS]!.chunk.buffer), "a given-back buffer was reused");
    late.complete();
    assert.ok(Buffer.from(await again).equals(bytes.subarray(0, CHUNK)));
  } finally {
    clearInterval(released);
    late.onLent = undefined;
    client.close();
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
});
