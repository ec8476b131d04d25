import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import {
  ConnectError,
  InvalidArgumentError,
  TimeoutError,
  TransportError,
} from "../../src/errors.ts";
import type { Socket } from "../../src/socket.ts";
import { tcpConnect, tcpListen } from "../../adapters/node/mod.ts";
import { SinkRecorder, turns } from "../conformance/socket-recorder.ts";

describe("node tcp adapter", () => {
  it("rejects bad options with InvalidArgumentError", () => {
    assert.throws(() => tcpConnect({ host: "", port: 1 }), InvalidArgumentError);
    assert.throws(() => tcpConnect({ host: "127.0.0.1", port: 0 }), InvalidArgumentError);
    assert.throws(() => tcpConnect({ host: "127.0.0.1", port: 70000 }), /received 70000/);
    assert.throws(
      () => tcpConnect({ host: "127.0.0.1", port: 1, highWaterMark: -5 }),
      InvalidArgumentError,
    );
    assert.throws(() => tcpListen({ port: 1.5 }), InvalidArgumentError);
    assert.throws(() => tcpListen({ backlog: -1 }), InvalidArgumentError);
  });

  it("names the address and the OS code when a connect is refused", async () => {
    const listener = await tcpListen()(() => {});
    const { port } = listener.address;
    await listener.close();
    await assert.rejects(tcpConnect({ host: "127.0.0.1", port })(), (error) => {
      assert.ok(error instanceof ConnectError);
      assert.match(error.message, new RegExp(`tcp://127\\.0\\.0\\.1:${port}`));
      assert.match(error.message, /ECONNREFUSED/);
      assert.equal((error.cause as { code?: string }).code, "ECONNREFUSED");
      return true;
    });
  });

  it("aborting while connecting rejects with the reason and destroys the socket", async () => {
    const accepted: Socket[] = [];
    const listener = await tcpListen()((socket) => accepted.push(socket));
    try {
      const controller = new AbortController();
      const pending = tcpConnect({ host: "127.0.0.1", port: listener.address.port })({
        signal: controller.signal,
      });
      const reason = new Error("changed my mind");
      controller.abort(reason);
      await assert.rejects(pending, (error) => error === reason);
    } finally {
      await listener.close();
      await turns(5);
      for (const socket of accepted) socket.close(new Error("cleanup"));
      await Promise.all(accepted.map((socket) => socket.closed));
    }
  });

  it("reports a busy port as a TransportError with the OS code", async () => {
    const listener = await tcpListen()(() => {});
    try {
      await assert.rejects(tcpListen({ port: listener.address.port })(() => {}), (error) => {
        assert.ok(error instanceof TransportError);
        assert.match(error.message, /EADDRINUSE/);
        return true;
      });
      assert.equal(listener.address.host, "127.0.0.1");
      assert.equal(listener.address.url, `tcp://127.0.0.1:${listener.address.port}`);
    } finally {
      await listener.close();
    }
  });

  it("delivers plain Uint8Array chunks, not Buffers", async () => {
    let server!: Socket;
    const listener = await tcpListen()((socket) => (server = socket));
    const client = await tcpConnect({ host: "127.0.0.1", port: listener.address.port })();
    try {
      await turns(2);
      const sink = new SinkRecorder({ keep: true });
      server.attach(sink);
      client.attach(new SinkRecorder());
      client.write(new Uint8Array([1, 2, 3]));
      await sink.waitForBytes(3);
      assert.equal(Object.getPrototypeOf(sink.chunks[0]), Uint8Array.prototype);
      assert.equal(client.info.transport, "tcp");
      assert.equal(client.info.remoteAddress, `127.0.0.1:${listener.address.port}`);
      assert.equal(server.info.remoteAddress, client.info.localAddress);
    } finally {
      client.close(new Error("cleanup"));
      await Promise.all([client.closed, server.closed, listener.close()]);
    }
  });

  it("allocateUninitialized: plain Uint8Arrays of the size asked, each with its own buffer", async () => {
    let server!: Socket;
    const listener = await tcpListen()((socket) => (server = socket));
    const client = await tcpConnect({ host: "127.0.0.1", port: listener.address.port })();
    try {
      await turns(2);
      for (const socket of [client, server]) {
        assert.equal(typeof socket.allocateUninitialized, "function");
        const a = socket.allocateUninitialized!(1 << 20);
        const b = socket.allocateUninitialized!(100);
        assert.equal(Object.getPrototypeOf(a), Uint8Array.prototype);
        assert.equal(a.length, 1 << 20);
        assert.equal(b.length, 100);
        // Never a slice of a shared pool: the frame handed to a caller owns its memory.
        assert.equal(a.buffer.byteLength, 1 << 20);
        assert.equal(b.buffer.byteLength, 100);
        assert.notEqual(a.buffer, b.buffer);
      }
    } finally {
      client.close(new Error("cleanup"));
      await Promise.all([client.closed, server.closed, listener.close()]);
    }
  });

  it("a graceful close the peer never completes ends with a TimeoutError", async () => {
    const raw: net.Socket[] = [];
    const server = net.createServer((socket) => {
      // Reads up to its high-water mark and then stops: the bytes queued behind keep our FIN
      // from ever being seen, so the peer never answers it.
      socket.pause();
      raw.push(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    const client = await tcpConnect({ host: "127.0.0.1", port, closeTimeoutMs: 50 })();
    try {
      client.attach(new SinkRecorder());
      client.write(new Uint8Array(64 * 1024 * 1024));
      client.close();
      const { error } = await client.closed;
      assert.ok(error instanceof TimeoutError, `closed with ${String(error)}`);
      assert.match(error.message, /graceful close/);
    } finally {
      for (const socket of raw) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("a throwing onSocket resets the accepted socket", async () => {
    const listener = await tcpListen()(() => {
      throw new Error("handler exploded");
    });
    try {
      // The reset may beat the client's connect completion; either way the client sees it.
      const client = await tcpConnect({ host: "127.0.0.1", port: listener.address.port })();
      client.attach(new SinkRecorder());
      const { error } = await client.closed;
      assert.ok(error instanceof TransportError, `client saw ${String(error)}`);
    } catch (error) {
      assert.ok(error instanceof ConnectError, `connect failed with ${String(error)}`);
      assert.match(error.message, /ECONNRESET/);
    } finally {
      await listener.close();
    }
  });

  it("writeLent gives a chunk back only once the kernel has taken all of it, or the socket died", async () => {
    // 16 MiB: far more than a peer that never reads lets the kernel hold (send buffer at most
    // 4 MiB, receive buffer 128 KiB until the application reads), so the write cannot complete.
    const chunk = new Uint8Array(16 << 20).fill(7);
    const accepted: Socket[] = [];
    const listener = await tcpListen()((socket) => accepted.push(socket));
    const raw = net.connect(listener.address.port, "127.0.0.1");
    raw.pause();
    try {
      await new Promise((resolve) => raw.once("connect", resolve));
      while (accepted.length === 0) await turns(1);
      const server = accepted[0]!;
      server.attach(new SinkRecorder());
      let givenBack = 0;
      assert.equal(typeof server.writeLent, "function");
      server.writeLent!(chunk, () => givenBack++);
      await turns(20);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(givenBack, 0, "not while the peer has not read it");
      let received = 0;
      raw.on("data", (data: Buffer) => (received += data.byteLength));
      raw.resume();
      while (givenBack === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(givenBack, 1);
      assert.ok(received > chunk.byteLength - (8 << 20), `the peer read ${received} bytes first`);

      // A write still queued when the socket is reset is given back too (nothing reads it).
      raw.pause();
      let second = 0;
      server.writeLent!(chunk, () => second++);
      server.writeLent!(chunk.subarray(0, 1), () => second++);
      await turns(5);
      assert.equal(second, 0);
      server.close(new Error("reset"));
      await server.closed;
      while (second < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(second, 2);
      // After the socket closed: given back at once (in a microtask), nothing written.
      let third = 0;
      assert.equal(server.writeLent!(chunk, () => third++), false);
      assert.equal(third, 0, "never inside the call");
      await turns(1);
      assert.equal(third, 1);
    } finally {
      raw.destroy();
      for (const socket of accepted) socket.close(new Error("cleanup"));
      await listener.close();
    }
  });
});
