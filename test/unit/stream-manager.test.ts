import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Peer } from "../../src/responder/peer.ts";
import type { TransportClient } from "../../src/client/transport-client.ts";
import { ConnectionClosedError, LimitError, TransportError } from "../../src/errors.ts";
import type { Int64 } from "../../src/protocol/messages.ts";
import { OneForOneStreamManager } from "../../src/responder/one-for-one-stream-manager.ts";
import { UnknownStreamError } from "../../src/responder/stream-errors.ts";
import { bytes, fakeClient, rejection, settle } from "./stream-manager-fixtures.ts";

describe("OneForOneStreamManager ids", () => {
  it("hands out random non-negative 63-bit ids in canonical Int64 form, unique among live streams", () => {
    const manager = new OneForOneStreamManager();
    const a = fakeClient("a");
    const ids = new Set<Int64>();
    for (let i = 0; i < 200; i++) ids.add(manager.registerStream(a, [bytes(i)]));
    assert.equal(ids.size, 200);
    for (const id of ids) {
      if (typeof id === "number") {
        assert.ok(Number.isSafeInteger(id) && id > 0, `number id ${id}`);
      } else {
        assert.ok(id > BigInt(Number.MAX_SAFE_INTEGER) && id < 2n ** 63n, `bigint id ${id}`);
      }
    }
    // Random 63-bit values are almost never ≤ 2^53, so nearly all are bigints: not a counter.
    assert.ok([...ids].filter((id) => typeof id === "bigint").length > 150);
  });

  it("skips ids in use and 0, and fails clearly when the random source is stuck", () => {
    const sequence = [0n, 42n, 42n, 7n];
    const manager = new OneForOneStreamManager({
      fillRandom: (out) => {
        const next = sequence.shift() ?? 42n;
        new DataView(out.buffer, out.byteOffset).setBigUint64(0, next);
      },
    });
    const a = fakeClient("a");
    assert.equal(manager.registerStream(a, [bytes(1)]), 42);
    assert.equal(manager.registerStream(a, [bytes(1)]), 7);
    assert.throws(
      () => manager.registerStream(a, [bytes(1)]),
      (error) => error instanceof TransportError && /random source is broken/.test(error.message),
    );
  });

  it("clears the top bit, so ids are never negative", () => {
    const manager = new OneForOneStreamManager({ fillRandom: (out) => out.fill(0xff) });
    assert.equal(manager.registerStream(fakeClient("a"), []), 2n ** 63n - 1n);
  });

  it("formats and parses Spark's chunk-as-stream ids", () => {
    const big = 2n ** 62n + 5n;
    assert.equal(OneForOneStreamManager.streamChunkId(big, 3), `${big}_3`);
    assert.deepEqual(OneForOneStreamManager.parseStreamChunkId(`${big}_3`), {
      streamId: big,
      chunkIndex: 3,
    });
    assert.deepEqual(OneForOneStreamManager.parseStreamChunkId("0042_7"), {
      streamId: 42,
      chunkIndex: 7,
    });
    for (
      const id of ["nope", "1_", "_1", "1_2_3", "1.5_2", "9223372036854775808_0", "1_2147483648"]
    ) {
      assert.equal(OneForOneStreamManager.parseStreamChunkId(id), undefined, id);
    }
  });
});

describe("OneForOneStreamManager ownership", () => {
  it("another connection gets exactly the text of an id that never existed", async () => {
    const manager = new OneForOneStreamManager();
    const a = fakeClient("a");
    const b = fakeClient("b");
    const id = manager.registerStream(a, [bytes(1), bytes(2)]);
    const never: Int64 = typeof id === "bigint" ? id ^ 1n : id + 1;

    const foreign = await rejection(manager.getChunk(id, 0, b));
    const absent = await rejection(manager.getChunk(id, 0, fakeClient("c")));
    assert.ok(foreign instanceof UnknownStreamError);
    assert.equal(foreign.message, absent.message);
    assert.equal(
      (await rejection(manager.getChunk(never, 0, b))).message,
      foreign.message.replace(String(id), String(never)),
    );

    const chunkId = OneForOneStreamManager.streamChunkId(id, 0);
    const foreignStream = await rejection(manager.openStream(chunkId, b));
    assert.equal(foreignStream.message, `Stream '${chunkId}' was not found.`);
    const neverId = OneForOneStreamManager.streamChunkId(never, 0);
    assert.equal(
      (await rejection(manager.openStream(neverId, b))).message,
      `Stream '${neverId}' was not found.`,
    );
    // The owner was not disturbed by the foreign attempts.
    assert.deepEqual(await manager.getChunk(id, 0, a), bytes(1));
  });

  it("releases an async source (return()) when its connection terminates", async () => {
    const manager = new OneForOneStreamManager();
    const a = fakeClient("a");
    const b = fakeClient("b");
    const finalized: string[] = [];
    async function* source(name: string) {
      try {
        for (let k = 0; k < 100; k++) yield bytes(k);
      } finally {
        finalized.push(name);
      }
    }
    const mine = manager.registerStream(a, source("mine"));
    const theirs = manager.registerStream(b, source("theirs"));
    await manager.getChunk(mine, 0, a);
    await manager.getChunk(theirs, 0, b); // a generator only runs `finally` once started
    manager.connectionTerminated(a);
    assert.equal(manager.has(mine), false);
    assert.ok(manager.has(theirs));
    await settle();
    assert.deepEqual(finalized, ["mine"]);
    assert.ok((await rejection(manager.getChunk(mine, 1, a))) instanceof UnknownStreamError);
    manager.connectionTerminated(b);
    await settle();
    assert.deepEqual(finalized, ["mine", "theirs"]);
    assert.equal(manager.stats().streams, 0);
  });

  it("does not call return() on a source that finished by itself", async () => {
    const manager = new OneForOneStreamManager();
    const a = fakeClient("a");
    let returns = 0;
    const chunks = [bytes(1)];
    const source: Iterable<Uint8Array> = {
      [Symbol.iterator]() {
        const inner = chunks[Symbol.iterator]();
        return {
          next: () => inner.next(),
          return: () => {
            returns++;
            return { done: true, value: undefined };
          },
        };
      },
    };
    const id = manager.registerStream(a, source);
    await manager.getChunk(id, 0, a);
    await settle();
    manager.connectionTerminated(a);
    assert.equal(returns, 0);
  });

  it("principal-owned streams are readable by connections of that principal only", async () => {
    const principals = new Map<Peer, string>();
    const manager = new OneForOneStreamManager({ principalOf: (c) => principals.get(c) });
    const a = fakeClient("a");
    const b = fakeClient("b");
    const c = fakeClient("c");
    principals.set(a, "app-1");
    principals.set(b, "app-1");
    principals.set(c, "app-2");
    const id = manager.registerStream("app-1", [bytes(1), bytes(2), bytes(3)]);
    assert.deepEqual(await manager.getChunk(id, 0, a), bytes(1));
    manager.connectionTerminated(a);
    assert.deepEqual(await manager.getChunk(id, 1, b), bytes(2));
    const foreign = await rejection(manager.getChunk(id, 2, c));
    assert.ok(foreign instanceof UnknownStreamError);
    assert.equal(manager.releaseOwner("app-1"), 1);
    assert.equal(manager.has(id), false);
  });

  it("refuses to register for a connection that is already closed (it would never be released)", () => {
    const manager = new OneForOneStreamManager();
    const closed = {
      isActive: false,
      remoteAddress: "10.0.0.1:5000",
    } as unknown as TransportClient;
    let touched = false;
    const source = {
      [Symbol.iterator]() {
        touched = true;
        return [][Symbol.iterator]();
      },
    };
    assert.throws(
      () => manager.registerStream(closed, source),
      (error) =>
        error instanceof ConnectionClosedError &&
        /10\.0\.0\.1:5000: it is closed/.test(error.message),
    );
    assert.equal(touched, false);
    assert.equal(manager.stats().streams, 0);
  });

  it("refuses principal owners when it cannot tell a connection's principal", () => {
    const manager = new OneForOneStreamManager();
    assert.throws(() => manager.registerStream("app-1", []), /principalOf/);
    assert.throws(() => manager.registerStream("", []), /empty/);
  });

  it("releases on abort, and refuses an already aborted signal without touching the source", async () => {
    const manager = new OneForOneStreamManager();
    const a = fakeClient("a");
    const controller = new AbortController();
    let finalized = 0;
    function* source() {
      try {
        yield bytes(1);
        yield bytes(2);
      } finally {
        finalized++;
      }
    }
    const id = manager.registerStream(a, source(), { signal: controller.signal });
    await manager.getChunk(id, 0, a);
    controller.abort(new Error("deadline"));
    assert.equal(manager.has(id), false);
    assert.equal(finalized, 1);

    const untouched = source();
    assert.throws(
      () => manager.registerStream(a, untouched, { signal: AbortSignal.abort(new Error("late")) }),
      /late/,
    );
    assert.deepEqual(untouched.next().value, bytes(1));
  });

  it("counts (and reports) cleanups that fail without stopping the other releases", async () => {
    const reported: unknown[] = [];
    const manager = new OneForOneStreamManager({ onReleaseError: (error) => reported.push(error) });
    const a = fakeClient("a");
    let closed = 0;
    manager.registerStream(a, {
      chunkCount: 1,
      getChunk: () => bytes(1),
      close() {
        throw new Error("close failed");
      },
    });
    manager.registerStream(a, { chunkCount: 1, getChunk: () => bytes(1), close: () => closed++ });
    manager.registerStream(a, {
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.resolve({ done: false as const, value: bytes(1) }),
        return: () => Promise.reject(new Error("return failed")),
      }),
    });
    assert.equal(manager.releaseAll(), 3);
    await settle();
    assert.equal(closed, 1);
    assert.deepEqual(reported.map((e) => (e as Error).message).sort(), [
      "close failed",
      "return failed",
    ]);
    assert.equal(manager.stats().releaseErrors, 2);
  });
});

describe("OneForOneStreamManager transfer cap", () => {
  it("refuses fetches at the cap with a LimitError, without consuming the index", async () => {
    const manager = new OneForOneStreamManager({ maxChunksBeingTransferred: 2 });
    const a = fakeClient("a");
    const b = fakeClient("b");
    const id = manager.registerStream(a, [bytes(1), bytes(2)]);
    manager.chunkBeingSent(id, a);
    manager.streamBeingSent("gen:1", b);
    assert.equal(manager.chunksBeingTransferred(), 2);
    const refused = await rejection(manager.getChunk(id, 0, a));
    assert.ok(refused instanceof LimitError);
    assert.match(
      refused.message,
      /2 chunks are being transferred, at this stream manager's limit of 2/,
    );
    assert.ok((await rejection(manager.openStream("x", a))) instanceof LimitError);

    manager.chunkSent(id, a);
    assert.deepEqual(await manager.getChunk(id, 0, a), bytes(1));
    manager.streamSent("gen:1", b);
    manager.streamSent("gen:1", b);
    assert.equal(manager.chunksBeingTransferred(), 0, "extra completions are ignored");
  });

  it("forgets what a terminated connection still counted", () => {
    const manager = new OneForOneStreamManager({ maxChunksBeingTransferred: 10 });
    const a = fakeClient("a");
    const b = fakeClient("b");
    manager.chunkBeingSent(1, a);
    manager.chunkBeingSent(2, a);
    manager.chunkBeingSent(3, b);
    manager.connectionTerminated(a);
    assert.equal(manager.chunksBeingTransferred(), 1);
    manager.chunkSent(1, a); // the late completion of a dead connection's write
    assert.equal(manager.chunksBeingTransferred(), 1);
    manager.chunkSent(3, b);
    assert.equal(manager.stats().chunksBeingTransferred, 0);
  });

  it("has no cap of its own by default, and rejects an unusable cap", () => {
    const manager = new OneForOneStreamManager();
    for (let i = 0; i < 20_000; i++) manager.chunkBeingSent(1, fakeClient("a"));
    assert.equal(manager.chunksBeingTransferred(), 20_000);
    assert.doesNotThrow(() => manager.registerStream(fakeClient("a"), []));
    assert.throws(() => new OneForOneStreamManager({ maxChunksBeingTransferred: 0 }), /positive/);
    assert.doesNotThrow(() => new OneForOneStreamManager({ maxChunksBeingTransferred: Infinity }));
  });
});
