import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/errors.ts";
import { OneForOneStreamManager } from "../../src/responder/one-for-one-stream-manager.ts";
import {
  ChunkIndexError,
  ChunkSourceError,
  UnknownStreamError,
} from "../../src/responder/stream-errors.ts";
import { bytes, collect, fakeClient, rejection, settle } from "./stream-manager-fixtures.ts";

describe("OneForOneStreamManager in-order streams", () => {
  it("serves an array's chunks in order and releases the stream after the last one", async () => {
    const manager = new OneForOneStreamManager();
    const a = fakeClient("a");
    const id = manager.registerStream(a, [bytes(1, 2), bytes(3), bytes(4, 5, 6)]);
    assert.deepEqual(await manager.getChunk(id, 0, a), bytes(1, 2));
    assert.deepEqual(await manager.getChunk(id, 1, a), bytes(3));
    assert.ok(manager.has(id));
    assert.deepEqual(await manager.getChunk(id, 2, a), bytes(4, 5, 6));
    await settle();
    assert.equal(manager.has(id), false);
    assert.equal(manager.stats().streams, 0);
    const gone = await rejection(manager.getChunk(id, 3, a));
    assert.ok(gone instanceof UnknownStreamError);
  });

  it("fails an out-of-order index with expected vs received, and keeps the stream usable", async () => {
    const manager = new OneForOneStreamManager();
    const a = fakeClient("a");
    const id = manager.registerStream(a, [bytes(1), bytes(2)]);
    const error = await rejection(manager.getChunk(id, 1, a));
    assert.ok(error instanceof ChunkIndexError);
    assert.match(error.message, /Received out-of-order chunk index 1 \(expected 0\)/);
    assert.deepEqual(await manager.getChunk(id, 0, a), bytes(1));
    const repeat = await rejection(manager.getChunk(id, 0, a));
    assert.match(repeat.message, /out-of-order chunk index 0 \(expected 1\)/);
    assert.deepEqual(await manager.getChunk(id, 1, a), bytes(2));
  });

  it("pipelined fetches of an async source never overlap next() calls", async () => {
    const manager = new OneForOneStreamManager();
    const a = fakeClient("a");
    let active = 0;
    let maxActive = 0;
    const source: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]() {
        let k = 0;
        return {
          async next() {
            active++;
            maxActive = Math.max(maxActive, active);
            await settle();
            active--;
            return k < 4 ? { done: false, value: bytes(k++) } : { done: true, value: undefined };
          },
        };
      },
    };
    const id = manager.registerStream(a, source);
    const chunks = await Promise.all([0, 1, 2, 3].map((k) => manager.getChunk(id, k, a)));
    assert.deepEqual(chunks, [bytes(0), bytes(1), bytes(2), bytes(3)]);
    assert.equal(maxActive, 1);
    await settle();
    await settle();
    assert.equal(manager.has(id), false);
  });

  it("an empty source fails chunk 0 as beyond the end and is released", async () => {
    const manager = new OneForOneStreamManager();
    const a = fakeClient("a");
    const id = manager.registerStream(a, []);
    const error = await rejection(manager.getChunk(id, 0, a));
    assert.ok(error instanceof ChunkIndexError);
    assert.match(error.message, /beyond end 0/);
    await settle();
    assert.equal(manager.has(id), false);
  });

  it("a source that throws fails that chunk with its message, then the stream is gone", async () => {
    const manager = new OneForOneStreamManager();
    const a = fakeClient("a");
    function* source() {
      yield bytes(1);
      throw new Error("disk on fire");
    }
    const id = manager.registerStream(a, source());
    assert.deepEqual(await manager.getChunk(id, 0, a), bytes(1));
    await settle();
    assert.ok(manager.has(id), "the failure is kept for the fetch of chunk 1");
    const error = await rejection(manager.getChunk(id, 1, a));
    assert.ok(error instanceof ChunkSourceError);
    assert.match(error.message, /chunk 1 of stream .*disk on fire/);
    await settle();
    assert.equal(manager.has(id), false);
  });

  it("a source yielding something else than bytes fails and is stopped", async () => {
    const manager = new OneForOneStreamManager();
    const a = fakeClient("a");
    let finalized = 0;
    function* source(): Generator<Uint8Array> {
      try {
        yield "text" as unknown as Uint8Array;
        yield bytes(1);
      } finally {
        finalized++;
      }
    }
    const id = manager.registerStream(a, source());
    const error = await rejection(manager.getChunk(id, 0, a));
    assert.match(error.message, /produced a string instead of a Uint8Array/);
    await settle();
    assert.equal(finalized, 1);
    assert.equal(manager.has(id), false);
  });

  it("refuses sources that are not sequences of chunks", () => {
    const manager = new OneForOneStreamManager();
    const a = fakeClient("a");
    assert.throws(
      () => manager.registerStream(a, bytes(1, 2) as unknown as Iterable<Uint8Array>),
      /pass \[bytes\]/,
    );
    assert.throws(
      () => manager.registerStream(a, "abc" as unknown as Iterable<Uint8Array>),
      InvalidArgumentError,
    );
    assert.throws(
      () => manager.registerStream(a, {} as unknown as Iterable<Uint8Array>),
      /neither/,
    );
    assert.throws(
      () => manager.registerStream(a, { chunkCount: -1, getChunk: () => bytes() }),
      /chunkCount must be an integer/,
    );
    assert.equal(manager.stats().streams, 0);
  });
});

describe("OneForOneStreamManager random-access sources", () => {
  it("serves any chunk in any order, repeatedly, and is closed on release only", async () => {
    const manager = new OneForOneStreamManager();
    const a = fakeClient("a");
    let closed = 0;
    const id = manager.registerStream(a, {
      chunkCount: 3,
      getChunk: (index) => Promise.resolve(bytes(index * 10)),
      close: () => closed++,
    });
    assert.deepEqual(await manager.getChunk(id, 2, a), bytes(20));
    assert.deepEqual(await manager.getChunk(id, 0, a), bytes(0));
    assert.deepEqual(await manager.getChunk(id, 2, a), bytes(20));
    assert.deepEqual(await manager.getChunk(id, 1, a), bytes(10));
    await settle();
    assert.ok(manager.has(id), "a random-access stream outlives its last chunk");
    const out = await rejection(manager.getChunk(id, 3, a));
    assert.ok(out instanceof ChunkIndexError);
    assert.match(out.message, /chunk index 3 is out of range: stream .* has 3 chunks/);
    assert.ok(manager.releaseStream(id));
    assert.equal(manager.releaseStream(id), false);
    assert.equal(closed, 1);
  });

  it("closes random-access sources when the owner terminates", () => {
    const manager = new OneForOneStreamManager();
    const a = fakeClient("a");
    let closed = 0;
    manager.registerStream(a, { chunkCount: 1, getChunk: () => bytes(1), close: () => closed++ });
    manager.registerStream(a, { chunkCount: 1, getChunk: () => bytes(1), close: () => closed++ });
    manager.connectionTerminated(a);
    manager.connectionTerminated(a);
    assert.equal(closed, 2);
  });

  it("wraps a failing getChunk and a non-bytes result", async () => {
    const manager = new OneForOneStreamManager();
    const a = fakeClient("a");
    const id = manager.registerStream(a, {
      chunkCount: 2,
      getChunk: (index) => {
        if (index === 0) throw new RangeError("bad sector");
        return 5 as unknown as Uint8Array;
      },
    });
    const thrown = await rejection(manager.getChunk(id, 0, a));
    assert.ok(thrown instanceof ChunkSourceError);
    assert.match(thrown.message, /RangeError: bad sector/);
    assert.match((await rejection(manager.getChunk(id, 1, a))).message, /produced a number/);
  });
});

describe("OneForOneStreamManager openStream", () => {
  it("serves `<streamId>_<chunkIndex>` as that chunk, in order for iterables", async () => {
    const manager = new OneForOneStreamManager();
    const a = fakeClient("a");
    const id = manager.registerStream(a, [bytes(1, 2, 3), bytes(4)]);
    const first = await manager.openStream(`${id}_0`, a);
    assert.equal(first.byteLength, 3);
    assert.deepEqual(await collect(first.body), [1, 2, 3]);
    const skipped = await rejection(manager.openStream(`${id}_0`, a));
    assert.match(skipped.message, /out-of-order chunk index 0 \(expected 1\)/);
    assert.deepEqual(await collect((await manager.openStream(`${id}_1`, a)).body), [4]);
  });

  it("answers other ids with Spark's text, or from the named-stream opener", async () => {
    const plain = new OneForOneStreamManager();
    const a = fakeClient("a");
    assert.equal(
      (await rejection(plain.openStream("nope", a))).message,
      "Stream 'nope' was not found.",
    );

    const released: string[] = [];
    const manager = new OneForOneStreamManager({
      openNamedStream: (id, client) => {
        if (id === "hello") {
          return { byteLength: 2, body: [bytes(7, 8)], release: () => released.push(id) };
        }
        if (id === "broken") return { byteLength: -1, body: [], release: () => released.push(id) };
        if (id === "throws") {
          throw new Error(`refused for ${(client as unknown as { name: string }).name}`);
        }
        return undefined;
      },
    });
    const hello = await manager.openStream("hello", a);
    assert.deepEqual(await collect(hello.body), [7, 8]);
    assert.equal(
      (await rejection(manager.openStream("nope", a))).message,
      "Stream 'nope' was not found.",
    );
    assert.match((await rejection(manager.openStream("broken", a))).message, /byteLength -1/);
    assert.deepEqual(released, ["broken"]);
    assert.equal((await rejection(manager.openStream("throws", a))).message, "refused for a");
  });
});
