/**
 * Lent chunk bodies (`TransportClient.fetchChunkWith`) over real loopback TCP, runtime-neutral:
 * each runtime passes its own `tcpListen` / `tcpConnect` and registers the cases with its runner
 * (Node `node:test` with a handle-leak check, Deno `Deno.test` with the sanitizers on).
 *
 * Every chunk has content of its own (an index stamp and a pseudo-random stream seeded by it) and
 * some have other sizes, so a buffer handed out again while a consumer still holds it, or an
 * owned body overwritten by later traffic, shows up as wrong bytes. Small RPC echoes run between
 * the chunks and their replies are checked only at the end: a reply read into a lent buffer's
 * room after its frame (adapters that read past a frame's end) must not share that buffer.
 *
 * @module
 */

import assert from "node:assert/strict";
import { TransportClient } from "../../src/client/transport-client.ts";
import type { StreamManager } from "../../src/responder/stream-manager.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import type { Connect, Listen } from "../../src/socket.ts";

/** One runtime's real TCP. */
export interface LentChunkTransport {
  /** A `Listen` on 127.0.0.1, port 0. */
  listen(): Listen;
  /** A `Connect` to 127.0.0.1:`port`. */
  connect(port: number): Connect;
}

const MiB = 1024 * 1024;
const streamId = 2 ** 40 + 3;
const chunkCount = 48;
const inFlight = 8;

/** Chunk sizes: mostly 1 MiB, some a little more or less, some 300 KiB. */
function chunkSize(index: number): number {
  if (index % 7 === 3) return 300 * 1024 + index;
  return MiB + (index % 3) * 4096 - 4096;
}

const contents = new Map<number, Uint8Array>();

/** Chunk `index`'s bytes: the index in the first 4 bytes, then an xorshift32 stream seeded by it. */
function chunkContent(index: number): Uint8Array {
  const cached = contents.get(index);
  if (cached !== undefined) return cached;
  const size = chunkSize(index);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, index);
  let state = (index + 1) * 0x9e3779b1 >>> 0;
  for (let offset = 4; offset + 4 <= size; offset += 4) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    view.setUint32(offset, state >>> 0);
  }
  contents.set(index, bytes);
  return bytes;
}

/** Whether `bytes` is chunk `index` (a byte loop would be slow: compare as words). */
function isChunk(bytes: Uint8Array, index: number): boolean {
  const expected = chunkContent(index);
  if (bytes.byteLength !== expected.byteLength) return false;
  const actual = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const wanted = new DataView(expected.buffer);
  const words = bytes.byteLength >>> 2;
  for (let i = 0; i < words; i++) {
    if (actual.getUint32(i * 4) !== wanted.getUint32(i * 4)) return false;
  }
  for (let i = words * 4; i < bytes.byteLength; i++) if (bytes[i] !== expected[i]) return false;
  return true;
}

const streamManager: StreamManager = {
  getChunk(id, index) {
    if (id !== streamId || index >= chunkCount) {
      return Promise.reject(new Error(`no chunk ${index} of stream ${id}`));
    }
    return Promise.resolve(chunkContent(index));
  },
  openStream: () => Promise.reject(new Error("no streams")),
  connectionTerminated() {},
};

const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function fetchAllLent(transport: LentChunkTransport): Promise<void> {
  const server = new TransportServer({ rpcHandler: { receive: (_c, m) => m }, streamManager });
  let client: TransportClient | undefined;
  try {
    const { address } = await server.listen(transport.listen());
    client = await TransportClient.connect(transport.connect(address.port));
    const lentBuffers = new Set<ArrayBufferLike>();
    let lentCount = 0;
    const owned = new Map<number, Uint8Array>();
    let next = 0;
    const worker = async (c: TransportClient) => {
      while (next < chunkCount) {
        const index = next++;
        if (index % 6 === 5) {
          owned.set(index, await c.fetchChunk(streamId, index));
          continue;
        }
        const checked = await c.fetchChunkWith(streamId, index, (body) => {
          lentCount++;
          lentBuffers.add(body.buffer);
          const check = () => {
            assert.ok(isChunk(body, index), `lent chunk ${index} has its own bytes`);
            return index;
          };
          // Some consumers hold their body across turns while other chunks arrive.
          return index % 4 === 1 ? nextTurn().then(check) : check();
        });
        assert.equal(checked, index);
      }
    };
    const echoes: Array<[Uint8Array, Uint8Array]> = [];
    const echo = async (c: TransportClient) => {
      for (let i = 0; next < chunkCount; i++) {
        const sent = new Uint8Array(40 + (i % 200)).fill(i & 0xff);
        echoes.push([sent, await c.sendRpc(sent)]);
      }
    };
    await Promise.all([...Array.from({ length: inFlight }, () => worker(client!)), echo(client)]);
    assert.ok(echoes.length > 0);
    for (const [sent, reply] of echoes) {
      assert.deepEqual(reply, sent, "an RPC reply kept its bytes after later traffic");
    }
    for (const [index, body] of owned) {
      assert.ok(isChunk(body, index), `owned chunk ${index} kept its bytes after later traffic`);
    }
    assert.ok(
      lentBuffers.size < lentCount,
      `${lentCount} lent chunks arrived in ${lentBuffers.size} buffers: none was reused`,
    );
    assert.ok(client.stats().retainedFrameBytes > 0);
  } finally {
    await client?.close();
    await server.close();
  }
}

/** The cases, each closing what it opened. */
export function lentChunkScenarios(
  transport: LentChunkTransport,
): { readonly title: string; readonly body: () => Promise<void> }[] {
  return [{
    title: `${chunkCount} chunks of ~1 MiB fetched lent, ${inFlight} in flight, every byte checked`,
    body: () => fetchAllLent(transport),
  }];
}
