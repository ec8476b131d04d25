/**
 * `TransportClient.fetchChunkWith`: a chunk body lent to a callback, whose buffer then holds a
 * later large frame. The client reads through a `DirectReadSocket` (64 KiB reads into the decoder's
 * frame tail, as the TCP adapters do), so a 1 MiB chunk spans reads and is assembled in a buffer
 * from the connection's frame buffer pool. Every chunk has its own content, so any reuse of a
 * buffer that is still held shows up as wrong bytes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TransportClient } from "../../src/client/transport-client.ts";
import { InvalidArgumentError, RemoteError, TimeoutError } from "../../src/errors.ts";
import type { Int64 } from "../../src/protocol/messages.ts";
import type { StreamManager } from "../../src/responder/stream-manager.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { DirectReadSocket } from "../helpers/direct-read-socket.ts";
import { pattern, settle } from "../helpers/engine-fixtures.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";

const MiB = 1024 * 1024;
const streamId = 41;

/** Chunk `index`: 1 MiB unless `sizes` says otherwise, content seeded by the index. */
function expectedChunk(index: number, size = MiB): Uint8Array {
  return pattern(size, index * 13 + 1);
}

interface Setup {
  readonly client: TransportClient;
  readonly socket: DirectReadSocket;
  close(): Promise<void>;
}

/**
 * A server whose chunk `i` of `streamId` is `expectedChunk(i, sizeOf(i))`; chunk indexes in
 * `gated` wait for `gate`; a negative size fails the chunk remotely.
 */
function setup(
  options: {
    sizeOf?: (index: number) => number;
    gate?: Promise<void>;
    gated?: number[];
    clock?: FakeClock;
  } = {},
  direct = true,
): Setup {
  const streamManager: StreamManager = {
    async getChunk(id: Int64, index: number) {
      if (id !== streamId) throw new Error(`no stream ${id}`);
      if (options.gated?.includes(index)) await options.gate;
      const size = options.sizeOf?.(index) ?? MiB;
      if (size < 0) throw new Error(`chunk ${index} is broken`);
      return expectedChunk(index, size);
    },
    openStream: () => Promise.reject(new Error("no streams")),
    connectionTerminated() {},
  };
  const [a, b] = memorySocketPair();
  const server = new TransportServer({ rpcHandler: { receive: (_c, m) => m }, streamManager });
  server.accept(b);
  const socket = new DirectReadSocket(a, 64 * 1024);
  const client = new TransportClient(
    direct ? socket : a,
    options.clock === undefined ? {} : { clock: options.clock },
  );
  return {
    client,
    socket,
    async close() {
      await client.close();
      await server.close();
    },
  };
}

/** Fetches `index` lent; returns the body's buffer, checking the bytes inside `consume`. */
function fetchLent(client: TransportClient, index: number, size = MiB): Promise<ArrayBufferLike> {
  return client.fetchChunkWith(streamId, index, (body) => {
    assert.deepEqual(body, expectedChunk(index, size), `chunk ${index} as lent`);
    return body.buffer;
  });
}

test("a lent chunk body has the chunk's bytes and the next large lent fetch reuses its buffer", async () => {
  const s = setup();
  try {
    const first = await fetchLent(s.client, 0);
    assert.ok(s.socket.directReads > 0, "the body was read straight into its frame buffer");
    assert.equal(s.client.stats().retainedFrameBytes, first.byteLength);
    const second = await fetchLent(s.client, 1);
    assert.equal(second, first, "the second chunk was assembled in the first one's buffer");
    assert.equal(await fetchLent(s.client, 2), first);
    // consume's result is what the promise resolves with.
    const sum = await s.client.fetchChunkWith(streamId, 3, (body) => body[0]! + body[1]!);
    assert.equal(sum, expectedChunk(3)[0]! + expectedChunk(3)[1]!);
  } finally {
    await s.close();
  }
});

test("an async consume keeps its buffer out of the pool until its promise settles", async () => {
  const s = setup();
  try {
    let resume!: () => void;
    const paused = new Promise<void>((resolve) => (resume = resolve));
    let held: Uint8Array | undefined;
    const slow = s.client.fetchChunkWith(streamId, 0, async (body) => {
      held = body;
      await paused;
      // Other lent fetches ran meanwhile: this body must be untouched.
      assert.deepEqual(body, expectedChunk(0), "the held body after other traffic");
      return body.buffer;
    });
    const others: ArrayBufferLike[] = [];
    for (let index = 1; index <= 4; index++) others.push(await fetchLent(s.client, index));
    assert.ok(held !== undefined);
    for (const buffer of others) assert.notEqual(buffer, held.buffer, "held buffer handed out");
    assert.equal(others[1], others[0], "the fetches behind the held one share a buffer");
    resume();
    const heldBuffer = await slow;
    // Released now: the pool holds it (and the others' buffer), and a later fetch may use it.
    assert.equal(s.client.stats().retainedFrameBytes, 2 * heldBuffer.byteLength);
    const next = await fetchLent(s.client, 5);
    assert.ok(next === heldBuffer || next === others[0]);
  } finally {
    await s.close();
  }
});

test("a throwing or rejecting consume rejects the fetch with its error and still releases", async () => {
  const s = setup();
  try {
    const thrown = new Error("consumer failed");
    let buffer: ArrayBufferLike | undefined;
    await assert.rejects(
      s.client.fetchChunkWith(streamId, 0, (body) => {
        buffer = body.buffer;
        throw thrown;
      }),
      (error) => error === thrown,
    );
    assert.equal(await fetchLent(s.client, 1), buffer, "released after the throw");
    const rejected = new Error("async consumer failed");
    await assert.rejects(
      s.client.fetchChunkWith(streamId, 2, async (body) => {
        buffer = body.buffer;
        await Promise.resolve();
        throw rejected;
      }),
      (error) => error === rejected,
    );
    assert.equal(await fetchLent(s.client, 3), buffer, "released after the rejection");
  } finally {
    await s.close();
  }
});

test("owned fetchChunk bodies are never reused or overwritten by later lent traffic", async () => {
  const s = setup();
  try {
    // A buffer released by a lent fetch may go to an owned fetch: it is the owner's from then on,
    // so no later lent fetch may get it (and no later traffic may write into it).
    const owned = new Map<number, Uint8Array>();
    const ownedBuffers = new Set<ArrayBufferLike>();
    const fetchOwned = async (index: number) => {
      const body = await s.client.fetchChunk(streamId, index);
      owned.set(index, body);
      ownedBuffers.add(body.buffer);
    };
    const lentFirst = await fetchLent(s.client, 0);
    await fetchOwned(1);
    assert.ok(ownedBuffers.has(lentFirst), "the owned fetch took the released buffer");
    await fetchOwned(2);
    for (let index = 3; index < 9; index++) {
      const lent = await fetchLent(s.client, index);
      assert.ok(!ownedBuffers.has(lent), `lent chunk ${index} got an owned body's buffer`);
      await fetchOwned(100 + index);
    }
    for (const [index, body] of owned) {
      assert.deepEqual(body, expectedChunk(index), `owned chunk ${index} after later traffic`);
    }
  } finally {
    await s.close();
  }
});

test("chunks of other sizes: a buffer is reused only when it fits without much waste", async () => {
  // The last is larger than the first frame's buffer with its spare room (256 bytes) after it.
  const sizes = [MiB, 600 * 1024, 400 * 1024, 20 * 1024, MiB + 1024];
  const s = setup({ sizeOf: (index) => sizes[index]! });
  const fetchSized = (index: number) => fetchLent(s.client, index, sizes[index]);
  try {
    const first = await fetchSized(0);
    assert.equal(await fetchSized(1), first, "600 KiB fits the 1 MiB buffer");
    const second = await fetchSized(2);
    assert.notEqual(second, first, "400 KiB would waste over half of it");
    const retained = s.client.stats().retainedFrameBytes;
    assert.equal(retained, first.byteLength + second.byteLength);
    await fetchSized(3);
    assert.equal(s.client.stats().retainedFrameBytes, retained, "20 KiB frames are not pooled");
    const larger = await fetchSized(4);
    assert.ok(larger !== first && larger !== second, "a larger frame needs a larger buffer");
  } finally {
    await s.close();
  }
});

test("a body that is a view of a received chunk (no frame assembled) is lent and not pooled", async () => {
  const s = setup({}, false); // plain memory socket: a 1 MiB body arrives as one chunk of its own
  try {
    const first = await fetchLent(s.client, 0);
    const second = await fetchLent(s.client, 1);
    assert.notEqual(second, first);
    assert.equal(s.client.stats().retainedFrameBytes, 0);
  } finally {
    await s.close();
  }
});

test("fetchChunkWith: deadline, abort, remote failure and bad arguments, consume not called", async () => {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const clock = new FakeClock();
  const s = setup({ gate, gated: [5, 6], sizeOf: (index) => (index === 7 ? -1 : MiB), clock });
  let consumed = 0;
  const consume = () => void consumed++;
  const abandoned: string[] = [];
  s.client.onAbandoned((request) => abandoned.push(`${request.kind}:${request.reason}`));
  try {
    const timedOut = s.client.fetchChunkWith(streamId, 5, consume, { timeoutMs: 5 });
    timedOut.catch(() => {});
    clock.advance(4);
    await settle();
    assert.equal(abandoned.length, 0, "not abandoned before its deadline");
    clock.advance(1);
    await assert.rejects(timedOut, TimeoutError);
    const controller = new AbortController();
    const aborted = s.client.fetchChunkWith(streamId, 6, consume, { signal: controller.signal });
    const reason = new Error("reader went away");
    controller.abort(reason);
    await assert.rejects(aborted, (error) => error === reason);
    assert.equal(abandoned.length, 2, "both were reported as abandoned chunk fetches");
    assert.ok(abandoned.every((entry) => entry.startsWith("chunk:")));
    await assert.rejects(s.client.fetchChunkWith(streamId, 7, consume), RemoteError);
    await assert.rejects(
      s.client.fetchChunkWith(streamId, 0, "nope" as never),
      (error) =>
        error instanceof InvalidArgumentError && /consume must be a function/.test(error.message),
    );
    await assert.rejects(
      s.client.fetchChunkWith(streamId, -1, consume),
      (error) =>
        error instanceof InvalidArgumentError && /fetchChunkWith: chunkIndex/.test(error.message),
    );
    await assert.rejects(
      s.client.fetchChunkWith(1.5, 0, consume),
      (error) =>
        error instanceof InvalidArgumentError && /fetchChunkWith streamId/.test(error.message),
    );
    await assert.rejects(
      s.client.fetchChunkWith(streamId, 0, consume, { signal: controller.signal }),
    );
    open();
    // The late replies of 5 and 6 are dropped; the connection still serves lent fetches.
    await fetchLent(s.client, 8);
    assert.equal(consumed, 0);
  } finally {
    open();
    await s.close();
  }
});

test("closing the connection while a consume holds its body: the release is ignored", async () => {
  const s = setup();
  let resume!: () => void;
  const paused = new Promise<void>((resolve) => (resume = resolve));
  let consuming!: () => void;
  const started = new Promise<void>((resolve) => (consuming = resolve));
  const held = s.client.fetchChunkWith(streamId, 0, async (body) => {
    consuming();
    await paused;
    return body.slice(0, 4);
  });
  await started;
  await s.close();
  resume();
  assert.deepEqual(await held, expectedChunk(0).subarray(0, 4));
  assert.equal(s.client.stats().retainedFrameBytes, 0);
});

test("consume may fetch again or close the client at once", async () => {
  const s = setup();
  try {
    // A nested lent fetch from inside consume: its reply is decoded later, by a later push.
    const nested = await s.client.fetchChunkWith(streamId, 0, (outer) => {
      const first = outer[0];
      return fetchLent(s.client, 1).then((inner) => ({ first, inner }));
    });
    assert.equal(nested.first, expectedChunk(0)[0]);
    assert.ok(nested.inner.byteLength >= MiB);
    // Closing from inside consume: the fetch still resolves with consume's result.
    const closedInside = await s.client.fetchChunkWith(streamId, 2, (body) => {
      void s.client.close();
      return body.byteLength;
    });
    assert.equal(closedInside, MiB);
    await assert.rejects(s.client.fetchChunkWith(streamId, 3, () => 0), /closed|clos/i);
  } finally {
    await s.close();
  }
});
