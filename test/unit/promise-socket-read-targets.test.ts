/**
 * Where the shared promise-stream socket (adapters/promise-socket.ts) points each read of an io
 * that reads into given memory (Deno's `conn.read`): the sink's frame tail when it offers one, a
 * slab region otherwise, and only a short probe right after a read filled a frame tail, so the
 * next large frame's body is not read into the slab and copied out. Deterministic: the io is
 * scripted, and every read records the memory it was given. Runs under Node and Deno.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { PROBE_BYTES, PromiseSocket, type PromiseSocketIo } from "../../adapters/promise-socket.ts";
import type { SocketSink } from "../../src/socket.ts";

/** An io that answers each read with the next scripted byte count (filling the given view). */
class ScriptedIo implements PromiseSocketIo {
  readonly readsIntoMemory = true;
  /** The view each read was given. */
  readonly given: Uint8Array[] = [];
  #script: number[];
  #fill = 0;
  #ended: (() => void) | undefined;
  #stop: ((error: unknown) => void) | undefined;
  readonly done: Promise<void>;

  constructor(script: number[]) {
    this.#script = [...script];
    this.done = new Promise((resolve) => (this.#ended = resolve));
  }

  read(into: Uint8Array | undefined): Promise<Uint8Array | null> {
    assert.ok(into !== undefined, "an io that reads into memory is always given a view");
    this.given.push(into);
    const wanted = this.#script.shift();
    if (wanted === undefined) {
      this.#ended?.();
      return new Promise((_, reject) => (this.#stop = reject)); // no more bytes until shutdown
    }
    const n = Math.min(wanted, into.byteLength);
    for (let i = 0; i < n; i++) into[i] = this.#fill++ & 0xff;
    return Promise.resolve(into.subarray(0, n));
  }

  write(bytes: Uint8Array): Promise<number> {
    return Promise.resolve(bytes.byteLength);
  }

  endWrite(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(error: unknown): Promise<unknown>[] {
    this.#stop?.(error);
    return [];
  }
}

/**
 * A sink that offers `tails[i]` (while unfilled) as the read buffer, in turn, like a decoder: the
 * next tail only once a chunk outside the last one has come (the next frame's header).
 */
class FrameTailSink implements SocketSink {
  readonly chunks: Uint8Array[] = [];
  #tails: Uint8Array[];
  #filled = 0;
  #betweenFrames = false;

  constructor(tails: Uint8Array[]) {
    this.#tails = tails;
  }

  readBuffer(): Uint8Array | undefined {
    const tail = this.#tails[0];
    return tail === undefined || this.#betweenFrames ? undefined : tail.subarray(this.#filled);
  }

  data(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    const tail = this.#tails[0];
    if (tail === undefined || chunk.buffer !== tail.buffer) {
      this.#betweenFrames = false;
      return;
    }
    this.#filled += chunk.byteLength;
    if (this.#filled === tail.byteLength) {
      this.#tails.shift();
      this.#filled = 0;
      this.#betweenFrames = true;
    }
  }

  drain(): void {}
  close(): void {}
}

async function run(script: number[], tails: Uint8Array[]) {
  const io = new ScriptedIo(script);
  const socket = new PromiseSocket(io, { transport: "test", remoteAddress: "peer" }, {
    highWaterMark: 1024,
    closeTimeoutMs: 0,
  });
  const sink = new FrameTailSink(tails);
  socket.attach(sink);
  await io.done;
  socket.close(new Error("test cleanup"));
  await socket.closed;
  return { given: io.given, chunks: sink.chunks };
}

describe("promise socket: read targets", () => {
  it("after a read fills a frame tail, the next read is a probe; the one after a full slab", async () => {
    const tail = new Uint8Array(100_000);
    // Fill the tail in two reads, then read what follows it twice.
    const { given, chunks } = await run([60_000, 40_000, 3000, 5000], [tail]);
    assert.equal(given[0]!.buffer, tail.buffer);
    assert.equal(given[1]!.buffer, tail.buffer);
    assert.equal(given[1]!.byteOffset, 60_000, "the second read continues the tail");
    assert.equal(given[2]!.byteLength, PROBE_BYTES, "the read after a filled tail is a probe");
    assert.notEqual(given[2]!.buffer, tail.buffer);
    assert.ok(given[3]!.byteLength > PROBE_BYTES, "then a whole slab rest again");
    assert.equal(given[3]!.buffer, given[2]!.buffer, "in the same slab");
    assert.equal(given[3]!.byteOffset, given[2]!.byteOffset + 3000, "right behind the probe");
    assert.deepEqual(chunks.map((chunk) => chunk.byteLength), [60_000, 40_000, 3000, 5000]);
  });

  it("a read that leaves part of the tail unfilled is not followed by a probe", async () => {
    // The sink offers tails only above 16 KiB here: a 10 KiB rest is read into the slab.
    const tail = new Uint8Array(50_000);
    const sink = new FrameTailSink([tail]);
    const offerOnlyLarge: SocketSink = {
      readBuffer: () => {
        const offered = sink.readBuffer();
        return offered !== undefined && offered.byteLength >= 16 * 1024 ? offered : undefined;
      },
      data: (chunk) => sink.data(chunk),
      drain: () => {},
      close: () => {},
    };
    const io = new ScriptedIo([40_000, 10_000]);
    const socket = new PromiseSocket(io, { transport: "test", remoteAddress: "peer" }, {
      highWaterMark: 1024,
      closeTimeoutMs: 0,
    });
    socket.attach(offerOnlyLarge);
    await io.done;
    socket.close(new Error("test cleanup"));
    await socket.closed;
    assert.equal(io.given[0]!.buffer, tail.buffer);
    assert.notEqual(io.given[1]!.buffer, tail.buffer, "the short rest goes to the slab");
    assert.ok(io.given[1]!.byteLength > PROBE_BYTES, "not a probe: the frame had not ended");
  });

  it("probe reads take slab regions that are never handed out twice", async () => {
    const frames = 40;
    const script: number[] = [];
    for (let i = 0; i < frames; i++) script.push(20_000, 1000);
    const tails = Array.from({ length: frames }, () => new Uint8Array(20_000));
    const { given, chunks } = await run(script, tails);
    const probes = given.filter((_view, index) => index % 2 === 1);
    assert.deepEqual(probes.map((view) => view.byteLength), Array(frames).fill(PROBE_BYTES));
    const regions = chunks.filter((chunk) => chunk.byteLength === 1000);
    assert.equal(regions.length, frames);
    for (let a = 0; a < regions.length; a++) {
      for (let b = a + 1; b < regions.length; b++) {
        const x = regions[a]!, y = regions[b]!;
        if (x.buffer !== y.buffer) continue;
        assert.ok(
          x.byteOffset + x.byteLength <= y.byteOffset ||
            y.byteOffset + y.byteLength <= x.byteOffset,
          `probe chunks ${a} and ${b} share memory`,
        );
      }
    }
    // Each probe chunk still holds the bytes it was read with (counter pattern, 20_000 + 1000 a step).
    for (const [index, chunk] of regions.entries()) {
      const first = (index * 21_000 + 20_000) & 0xff;
      assert.equal(chunk[0], first, `probe chunk ${index} was overwritten`);
    }
  });
});
