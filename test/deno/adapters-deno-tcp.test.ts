/**
 * Deno TCP adapter specifics beyond the conformance suite: option checks, error texts, aborting a
 * connect in flight, the graceful-close deadline, and how read buffers are handed out. Each case
 * is a `Deno.test` with the resource and op sanitizers on.
 */
import assert from "node:assert/strict";
import {
  ConnectError,
  InvalidArgumentError,
  TimeoutError,
  TransportError,
} from "../../src/errors.ts";
import type { Socket } from "../../src/socket.ts";
import { tcpConnect, tcpListen } from "../../adapters/deno/mod.ts";
import { SinkRecorder, turns } from "../conformance/socket-recorder.ts";

interface RawConn {
  read(buffer: Uint8Array): Promise<number | null>;
  close(): void;
}

/** The part of `Deno` used here, typed locally so Node's type-check passes. */
const Deno = (globalThis as unknown as {
  Deno: {
    test(definition: {
      name: string;
      fn: () => Promise<void> | void;
      sanitizeOps: boolean;
      sanitizeResources: boolean;
    }): void;
    listen(options: { hostname: string; port: number }): {
      accept(): Promise<RawConn>;
      close(): void;
      readonly addr: { port: number };
    };
  };
}).Deno;

function test(name: string, fn: () => Promise<void> | void): void {
  Deno.test({ name: `deno tcp adapter: ${name}`, fn, sanitizeOps: true, sanitizeResources: true });
}

test("rejects bad options with InvalidArgumentError", () => {
  assert.throws(() => tcpConnect({ host: "", port: 1 }), InvalidArgumentError);
  assert.throws(() => tcpConnect({ host: "127.0.0.1", port: 0 }), InvalidArgumentError);
  assert.throws(
    () => tcpConnect({ host: "127.0.0.1", port: 1, keepAliveInitialDelayMs: 1000 }),
    /keepAliveInitialDelayMs is not supported by Deno/,
  );
  assert.throws(() => tcpListen({ port: -1 }), /received -1/);
  assert.throws(() => tcpListen({ closeTimeoutMs: Number.NaN }), InvalidArgumentError);
});

test("names the address and the error when a connect is refused", async () => {
  const listener = await tcpListen()(() => {});
  const { port } = listener.address;
  await listener.close();
  await assert.rejects(tcpConnect({ host: "127.0.0.1", port })(), (error) => {
    assert.ok(error instanceof ConnectError);
    assert.match(error.message, new RegExp(`tcp://127\\.0\\.0\\.1:${port}`));
    assert.match(error.message, /ConnectionRefused|ECONNREFUSED/);
    return true;
  });
});

test("aborting while connecting rejects with the reason", async () => {
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
    await turns(5);
    await listener.close();
    for (const socket of accepted) socket.close(new Error("cleanup"));
    await Promise.all(accepted.map((socket) => socket.closed));
  }
});

test("reports a busy port as a TransportError", async () => {
  const listener = await tcpListen()(() => {});
  try {
    await assert.rejects(tcpListen({ port: listener.address.port })(() => {}), (error) => {
      assert.ok(error instanceof TransportError);
      assert.match(error.message, /AddrInUse|EADDRINUSE/);
      return true;
    });
    assert.equal(listener.address.url, `tcp://127.0.0.1:${listener.address.port}`);
  } finally {
    await listener.close();
  }
});

test("a graceful close the peer never completes ends with a TimeoutError", async () => {
  const raw = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = raw.accept(); // accepted but never read: our FIN stays queued behind data
  const client = await tcpConnect({ host: "127.0.0.1", port: raw.addr.port, closeTimeoutMs: 50 })();
  const peer = await accepting;
  try {
    client.attach(new SinkRecorder());
    client.write(new Uint8Array(64 * 1024 * 1024));
    client.close();
    const { error } = await client.closed;
    assert.ok(error instanceof TimeoutError, `closed with ${String(error)}`);
    assert.match(error.message, /graceful close/);
  } finally {
    peer.close();
    raw.close();
  }
});

test("small reads are copied out; large reads get a buffer of their own", async () => {
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
    const small = sink.chunks[0]!;
    assert.equal(small.buffer.byteLength, 3, "a 3-byte read pins no 64 KiB buffer");
    client.write(new Uint8Array(8 * 1024 * 1024));
    await sink.waitForBytes(3 + 8 * 1024 * 1024);
    const buffers = new Set(sink.chunks.map((chunk) => chunk.buffer));
    assert.equal(buffers.size, sink.chunks.length, "two chunks share a buffer");
  } finally {
    client.close(new Error("cleanup"));
    await Promise.all([client.closed, server.closed, listener.close()]);
  }
});
