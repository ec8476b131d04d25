import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Socket as NetSocket } from "node:net";
import * as tls from "node:tls";
import { directTlsWriteBytes, TlsWrites } from "../../adapters/node/tls-writes.ts";
import { tlsConnect, tlsListen } from "../../adapters/node/mod.ts";
import type { Socket } from "../../src/socket.ts";
import { generateSelfSignedCertificate } from "../../src/tls/self-signed-certificate.ts";
import { patternChunk, patternMismatch, SinkRecorder } from "../conformance/socket-recorder.ts";

/** The parts of a Node socket `TlsWrites` uses, recording every `write`. */
class FakeNetSocket {
  readonly writes: Uint8Array[] = [];
  writableLength = 0;
  writableHighWaterMark = 16 * 1024;
  destroyed = false;
  _writev: unknown = () => {};
  write(chunk: Uint8Array): boolean {
    this.writes.push(chunk);
    this.writableLength += chunk.byteLength;
    return this.writableLength < this.writableHighWaterMark;
  }
}

function fake(): { socket: FakeNetSocket; writes: TlsWrites } {
  const socket = new FakeNetSocket();
  return { socket, writes: new TlsWrites(socket as unknown as NetSocket) };
}

const bytes = (...values: number[]) => Uint8Array.from(values);
const turn = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe("TlsWrites (Node TLS sockets)", () => {
  it("takes writev away from the socket, so Node's TLS never copies queued chunks together", () => {
    const { socket } = fake();
    assert.equal(socket._writev, null);
  });

  it("passes a large chunk on as the caller's memory, after the small ones written before it", () => {
    const { socket, writes } = fake();
    const large = new Uint8Array(directTlsWriteBytes);
    writes.write(bytes(1, 2));
    writes.write(bytes(3));
    writes.write(large);
    assert.equal(socket.writes.length, 2);
    assert.deepEqual(socket.writes[0], bytes(1, 2, 3));
    assert.equal(socket.writes[1], large, "the large chunk was copied");
    assert.equal(writes.pendingBytes, 0);
  });

  it("gathers the small chunks of one turn into one write after the turn", async () => {
    const { socket, writes } = fake();
    writes.write(bytes(1));
    writes.write(bytes(2, 3));
    writes.write(bytes(4));
    assert.equal(socket.writes.length, 0);
    assert.equal(writes.pendingBytes, 4);
    await turn();
    assert.deepEqual(socket.writes, [bytes(1, 2, 3, 4)]);
    writes.write(bytes(5));
    await turn();
    assert.equal(socket.writes.length, 2, "a later turn's chunk waited for another");
    assert.deepEqual(socket.writes[1], bytes(5));
  });

  it("counts gathered bytes towards the high-water mark, as the socket will once they pass", () => {
    const { socket, writes } = fake();
    socket.writableLength = socket.writableHighWaterMark - 10;
    assert.equal(writes.write(new Uint8Array(9)), true);
    assert.equal(writes.write(new Uint8Array(1)), false);
    writes.flush();
    assert.equal(socket.writableLength, socket.writableHighWaterMark);
  });

  it("passes gathered chunks on once they reach 256 KiB, bounding each copy", () => {
    const { socket, writes } = fake();
    socket.writableHighWaterMark = Infinity;
    const small = new Uint8Array(directTlsWriteBytes - 1);
    let written = 0;
    while (socket.writes.length === 0) {
      writes.write(small);
      written += small.byteLength;
    }
    assert.ok(written >= 256 * 1024 && written < 256 * 1024 + small.byteLength, `${written}`);
    assert.equal(socket.writes[0]!.byteLength, written);
  });

  it("drops gathered chunks when discarded (a reset), and writes nothing to a destroyed socket", async () => {
    const { socket, writes } = fake();
    writes.write(bytes(1));
    writes.discard();
    await turn();
    assert.equal(socket.writes.length, 0);
    writes.write(bytes(2));
    socket.destroyed = true;
    writes.flush();
    assert.equal(socket.writes.length, 0);
    assert.equal(writes.pendingBytes, 0);
  });
});

/** A Node TLS client and the server side of its connection, whose received bytes are kept. */
async function tlsPair() {
  const { certPem, keyPem } = await generateSelfSignedCertificate();
  let accepted!: (socket: Socket) => void;
  const serverSide = new Promise<Socket>((resolve) => (accepted = resolve));
  const listener = await tlsListen({ cert: certPem, key: keyPem })((socket) => accepted(socket));
  const client = await tlsConnect({
    host: "127.0.0.1",
    port: listener.address.port,
    ca: certPem,
  })();
  const server = await serverSide;
  const sink = new SinkRecorder({ keep: true });
  server.attach(sink);
  client.attach(new SinkRecorder());
  const close = async () => {
    client.close();
    await Promise.all([client.closed, server.closed, listener.close()]);
  };
  return { client, server, sink, close };
}

describe("node tls adapter writes", () => {
  it("encrypts a frame's large body from the caller's memory, never through writev", async () => {
    const calls: { writev: boolean; data: unknown }[] = [];
    const proto = tls.TLSSocket.prototype as unknown as {
      _writeGeneric(writev: boolean, data: unknown, encoding: string, cb: unknown): void;
    };
    const original = proto._writeGeneric;
    proto._writeGeneric = function (writev, data, encoding, cb) {
      calls.push({ writev, data });
      return original.call(this, writev, data, encoding, cb);
    };
    const { client, sink, close } = await tlsPair();
    try {
      // Two frames as Ferry writes them: a 21-byte header, then its body passed through.
      const sizes = [21, 1024 * 1024, 21, 300 * 1024, 13, 7];
      let offset = 0;
      const chunks = sizes.map((size) => {
        const chunk = patternChunk(offset, size);
        offset += size;
        return chunk;
      });
      calls.length = 0;
      for (const chunk of chunks) client.write(chunk);
      await sink.waitForBytes(offset);
      assert.equal(patternMismatch(sink.bytes(), 0), -1);
      assert.ok(calls.length > 0);
      assert.equal(calls.filter((call) => call.writev).length, 0, "a writev reached Node's TLS");
      for (const large of [chunks[1]!, chunks[3]!]) {
        const passed = calls.some(({ data }) =>
          data instanceof Uint8Array && data.buffer === large.buffer &&
          data.byteOffset === large.byteOffset && data.byteLength === large.byteLength
        );
        assert.ok(passed, `the ${large.byteLength}-byte body was not passed as it was`);
      }
    } finally {
      proto._writeGeneric = original;
      await close();
    }
  });

  it("writeLent sends a lent body after the small writes gathered before it, and gives it back", async () => {
    const { client, sink, close } = await tlsPair();
    try {
      // A chunk reply as `ferry serve` writes it: a 21-byte header (gathered), then the lent body.
      const header = patternChunk(0, 21);
      const body = patternChunk(21, 512 * 1024);
      let givenBack = 0;
      client.write(header);
      client.writeLent!(body, () => givenBack++);
      await sink.waitForBytes(21 + body.byteLength);
      assert.equal(patternMismatch(sink.bytes(), 0), -1, "the lent body overtook its header");
      while (givenBack === 0) await new Promise((resolve) => setTimeout(resolve, 1));
      assert.equal(givenBack, 1);
    } finally {
      await close();
    }
  });

  it("flushes gathered small writes before a graceful close ends the stream", async () => {
    const { client, server, sink, close } = await tlsPair();
    try {
      client.write(patternChunk(0, 5));
      client.write(patternChunk(5, 6));
      assert.equal(client.bufferedAmount >= 11, true, "gathered bytes missing from bufferedAmount");
      client.close();
      server.close();
      await Promise.all([client.closed, server.closed]);
      assert.equal(sink.bytes().byteLength, 11);
      assert.equal(patternMismatch(sink.bytes(), 0), -1);
    } finally {
      await close();
    }
  });
});
