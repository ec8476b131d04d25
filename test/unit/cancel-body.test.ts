/**
 * `CancellableBody`: how a StreamResponse body already on the wire ends when the peer cancels it —
 * zero padding up to `paddingLimit` bytes left (exact byte count, shared zero chunks), a
 * `LimitError` beyond it, a pending asynchronous read settled at once, the source released and
 * never read again.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { bodySource } from "../../src/connection/body-source.ts";
import { LimitError } from "../../src/errors.ts";
import { CancellableBody } from "../../src/responder/cancellable-body.ts";

function countingIterable(chunks: Uint8Array[]) {
  const state = { reads: 0, returned: 0 };
  const iterable: Iterable<Uint8Array> = {
    [Symbol.iterator]: () => {
      let index = 0;
      return {
        next: () => {
          state.reads++;
          return index < chunks.length
            ? { done: false, value: chunks[index++]! }
            : { done: true, value: undefined };
        },
        return: () => {
          state.returned++;
          return { done: true, value: undefined };
        },
      };
    },
  };
  return { iterable, state };
}

/** Pulls every remaining chunk synchronously; returns their sizes. */
function drainSync(body: CancellableBody): number[] {
  const sizes: number[] = [];
  for (;;) {
    const chunk = body.next();
    assert.ok(!(chunk instanceof Promise));
    if (chunk === undefined) return sizes;
    assert.ok(chunk.every((byte) => byte === 0), "padding is zeros");
    sizes.push(chunk.byteLength);
  }
}

test("a small rest is padded with exactly the missing bytes; the source is released", () => {
  const { iterable, state } = countingIterable([new Uint8Array(10).fill(1), new Uint8Array(10)]);
  const body = new CancellableBody(bodySource(iterable, "t"), 200_000, 1 << 20, "stream 't'");
  assert.equal((body.next() as Uint8Array).byteLength, 10);
  assert.equal(body.cancelByPeer(new Error("peer")), "padded");
  assert.equal(state.returned, 1);
  const readsAtCancel = state.reads;
  assert.deepEqual(drainSync(body), [65_536, 65_536, 65_536, 200_000 - 10 - 3 * 65_536]);
  assert.equal(state.reads, readsAtCancel, "never read again");
  assert.equal(body.cancelByPeer(new Error("again")), "padded", "idempotent");
});

test("a body fully handed out needs no padding", () => {
  const { iterable } = countingIterable([new Uint8Array(5)]);
  const body = new CancellableBody(bodySource(iterable, "t"), 5, 0, "stream 't'");
  body.next();
  assert.equal(body.cancelByPeer(new Error("late")), "finished");
  assert.equal(body.next(), undefined);
});

test("more left than the padding limit fails the body, including a read in progress", async () => {
  let returned = 0;
  const source = {
    [Symbol.asyncIterator]: () => ({
      next: () => new Promise<IteratorResult<Uint8Array>>(() => {}), // never settles by itself
      return: () => {
        returned++;
        return Promise.resolve({ done: true as const, value: undefined });
      },
    }),
  };
  const body = new CancellableBody(bodySource(source, "t"), 1 << 30, 1 << 20, "stream 'gib'");
  const pending = body.next();
  assert.ok(pending instanceof Promise);
  assert.equal(body.cancelByPeer(new Error("peer gave up")), "reset");
  await assert.rejects(pending, (error: unknown) => {
    assert.ok(error instanceof LimitError);
    assert.match(error.message, /stream 'gib' was cancelled by the peer with 1073741824 of its/);
    assert.match(error.message, /more than maxCancelPaddingBytes \(1048576\)/);
    return true;
  });
  assert.throws(() => body.next(), LimitError);
  assert.equal(returned, 1);
});

test("a read in progress during a cancel with a small rest resolves with padding", async () => {
  let resolveRead!: (result: IteratorResult<Uint8Array>) => void;
  const source = {
    [Symbol.asyncIterator]: () => ({
      next: () => new Promise<IteratorResult<Uint8Array>>((resolve) => (resolveRead = resolve)),
    }),
  };
  const body = new CancellableBody(bodySource(source, "t"), 100, 100, "stream 's'");
  const pending = body.next() as Promise<Uint8Array | undefined>;
  await Promise.resolve();
  assert.equal(body.cancelByPeer(new Error("x")), "padded");
  assert.equal((await pending)?.byteLength, 100);
  resolveRead({ done: false, value: new Uint8Array(50).fill(9) }); // arrives late: dropped
  await Promise.resolve();
  assert.equal(body.next(), undefined);
  assert.equal(body.remaining, 0);
});
