/**
 * Node client sockets read through `onread` into ONE landing buffer per process and copy each read
 * out before the sink sees it (adapters/node/node-socket.ts). Many sockets reading interleaved,
 * with sinks that keep every chunk without copying: no socket's kept bytes may change.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { tcpConnect } from "../../adapters/node/tcp.ts";

const SOCKETS = 24;
const WRITES = 150;

/** Byte `i` of socket `s`'s stream: differs between sockets and along each stream. */
const byteAt = (s: number, i: number) => (s * 31 + i * 7 + (i >> 8)) & 0xff;
const lengthOf = (w: number) => w % 10 === 0 ? 20_000 + w : 1 + ((w * 37) % 900);

test("interleaved reads of many sockets through the shared landing buffer keep their bytes", async () => {
  const server = net.createServer((socket) => {
    socket.once("data", async (first) => {
      const s = first[0]!;
      let at = 0;
      for (let w = 0; w < WRITES; w++) {
        // Small and large writes: reads of every size, some crossing into a fresh shared slab.
        const length = lengthOf(w);
        const bytes = Buffer.alloc(length);
        for (let i = 0; i < length; i++) bytes[i] = byteAt(s, at + i);
        at += length;
        if (!socket.write(bytes)) await new Promise((resolve) => socket.once("drain", resolve));
        if (w % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      socket.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  const connect = tcpConnect({ host: "127.0.0.1", port });
  const results = await Promise.all(Array.from({ length: SOCKETS }, async (_, s) => {
    const socket = await connect();
    const kept: Uint8Array[] = [];
    const done = new Promise<unknown>((resolve) => {
      socket.attach({ data: (chunk) => void kept.push(chunk), drain: () => {}, close: resolve });
    });
    socket.write(new Uint8Array([s]));
    assert.equal(await done, undefined);
    return { s, kept };
  }));
  server.close();
  let chunks = 0;
  for (const { s, kept } of results) {
    chunks += kept.length;
    let at = 0;
    for (const chunk of kept) {
      for (let i = 0; i < chunk.length; i++, at++) {
        if (chunk[i] !== byteAt(s, at)) assert.fail(`socket ${s}: byte ${at} changed`);
      }
    }
    const total = Array.from({ length: WRITES }, (_, w) => lengthOf(w)).reduce((a, b) => a + b);
    assert.equal(at, total, `socket ${s}: bytes received`);
  }
  console.log(`direct reads: ${SOCKETS} sockets, ${chunks} reads kept intact`);
});
