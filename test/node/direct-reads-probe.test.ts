/**
 * Node client sockets read a large frame's body straight into the buffer the sink offers
 * (`readBuffer`), and the read right after such a buffer is full (whether the sink reuses its
 * buffers, as for lent chunk bodies, or takes fresh memory for each, as for owned ones) takes only
 * a few bytes (adapters/node/node-socket.ts,
 * `PROBE_BYTES`): enough for the next frame's header, so the next large body goes straight into the
 * sink's buffer too instead of a landing buffer's worth of it being copied out first.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { tcpConnect } from "../../adapters/node/tcp.ts";
import type { SocketSink } from "../../src/socket.ts";

const FRAMES = 24;
const HEADER = 4;
/** The adapter's probe read (PROBE_BYTES in node-socket.ts). */
const PROBE = 256;
const bodyLength = (f: number) => 150_000 + f * 1_111;
const byteAt = (f: number, i: number) => (f * 13 + i * 7 + (i >> 9)) & 0xff;

/**
 * A sink of `[length:uint32 BE][body]` frames that offers each body's unfilled tail, assembling
 * bodies in two buffers taken in turn (or, with `fresh`, in new memory each time) and checking each
 * body once complete.
 */
class FrameSink implements SocketSink {
  frames = 0;
  readonly #buffers = [new ArrayBuffer(bodyLength(FRAMES)), new ArrayBuffer(bodyLength(FRAMES))];
  readonly #fresh: boolean;
  /** Lengths of reads, and whether each landed in memory this sink offered. */
  readonly reads: { length: number; direct: boolean }[] = [];
  readonly closed: Promise<unknown>;
  #close!: (error: unknown) => void;
  #header = new Uint8Array(HEADER);
  #headerFilled = 0;
  #body: Uint8Array | undefined;
  #bodyFilled = 0;

  constructor(fresh: boolean) {
    this.#fresh = fresh;
    this.closed = new Promise((resolve) => (this.#close = resolve));
  }

  readBuffer(): Uint8Array | undefined {
    return this.#body?.subarray(this.#bodyFilled);
  }

  data(chunk: Uint8Array): void {
    const direct = this.#body !== undefined && chunk.buffer === this.#body.buffer;
    this.reads.push({ length: chunk.length, direct });
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#body === undefined) {
        while (this.#headerFilled < HEADER && offset < chunk.length) {
          this.#header[this.#headerFilled++] = chunk[offset++]!;
        }
        if (this.#headerFilled < HEADER) return;
        this.#headerFilled = 0;
        const length = new DataView(this.#header.buffer).getUint32(0);
        this.#body = this.#fresh
          ? new Uint8Array(length)
          : new Uint8Array(this.#buffers[this.frames % 2]!, 0, length);
        this.#bodyFilled = 0;
        continue;
      }
      const count = Math.min(this.#body.length - this.#bodyFilled, chunk.length - offset);
      if (!direct) this.#body.set(chunk.subarray(offset, offset + count), this.#bodyFilled);
      this.#bodyFilled += count;
      offset += count;
      if (this.#bodyFilled === this.#body.length) {
        const f = this.frames++;
        assert.equal(this.#body.length, bodyLength(f), `frame ${f}: length`);
        for (let i = 0; i < this.#body.length; i++) {
          if (this.#body[i] !== byteAt(f, i)) assert.fail(`frame ${f}: byte ${i} is wrong`);
        }
        this.#body = undefined;
      }
    }
  }

  drain(): void {}

  close(error: unknown): void {
    this.#close(error);
  }
}

/** Serves FRAMES frames to one sink; returns its reads once the stream has ended. */
async function receiveFrames(sink: FrameSink) {
  const server = net.createServer((socket) => {
    socket.once("data", async () => {
      for (let f = 0; f < FRAMES; f++) {
        const length = bodyLength(f);
        const frame = Buffer.alloc(HEADER + length);
        frame.writeUInt32BE(length, 0);
        for (let i = 0; i < length; i++) frame[HEADER + i] = byteAt(f, i);
        if (!socket.write(frame)) await new Promise((resolve) => socket.once("drain", resolve));
      }
      socket.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const port = (server.address() as net.AddressInfo).port;
    const socket = await tcpConnect({ host: "127.0.0.1", port })();
    socket.attach(sink);
    socket.write(new Uint8Array([1]));
    assert.equal(await sink.closed, undefined);
  } finally {
    server.close();
  }
  assert.equal(sink.frames, FRAMES);
  let copied = 0;
  let afterFull = 0;
  let probes = 0;
  for (let r = 0; r < sink.reads.length; r++) {
    const read = sink.reads[r]!;
    if (!read.direct) copied += read.length;
    // A direct read that ended its body filled the offered buffer.
    if (sink.reads[r - 1]?.direct && !read.direct) {
      afterFull++;
      if (read.length <= PROBE) probes++;
    }
  }
  const total = sink.reads.reduce((sum, read) => sum + read.length, 0);
  return { copied, afterFull, probes, total, reads: sink.reads.length };
}

for (const fresh of [false, true]) {
  const memory = fresh ? "fresh memory for every frame" : "reused buffers";
  test(`after a read fills the sink's buffer, the next read is a small probe (${memory})`, async () => {
    const { copied, afterFull, probes, total, reads } = await receiveFrames(new FrameSink(fresh));
    console.log(
      `${memory}: ${reads} reads, ${probes} probes, ${copied} of ${total} bytes landed ` +
        `outside the sink's buffers`,
    );
    assert.equal(afterFull, FRAMES - 1);
    assert.equal(probes, afterFull, `${probes} probe reads after ${afterFull} full buffers`);
    // Besides the first frame, only probes land outside, give or take a landing read when a probe
    // ends inside a header (without the probe: ~64 KiB per frame).
    assert.ok(copied <= 3 * 64 * 1024 + FRAMES * PROBE, `${copied} bytes landed outside`);
  });
}
