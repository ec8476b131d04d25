import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConnectError, ConnectionClosedError, InvalidArgumentError } from "../../src/errors.ts";
import type { Socket, SocketSink } from "../../src/socket.ts";
import { memoryNetwork, memorySocketPair } from "../helpers/memory-socket.ts";

interface Recorder extends SocketSink {
  readonly events: string[];
  readonly chunks: Uint8Array[];
  bytes(): Uint8Array;
}

function recorder(onData?: (chunk: Uint8Array) => void): Recorder {
  const events: string[] = [];
  const chunks: Uint8Array[] = [];
  return {
    events,
    chunks,
    data(chunk) {
      events.push(`data:${chunk.byteLength}`);
      chunks.push(chunk);
      onData?.(chunk);
    },
    drain() {
      events.push("drain");
    },
    close(error) {
      events.push(error === undefined ? "close" : `close:${(error as Error).name}`);
    },
    bytes() {
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.byteLength;
      }
      return out;
    },
  };
}

const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe("memorySocketPair", () => {
  it("delivers writes in order, asynchronously, as copies", async () => {
    const [a, b] = memorySocketPair();
    const sink = recorder();
    b.attach(sink);
    a.attach(recorder());
    const first = new Uint8Array([1, 2, 3]);
    assert.equal(a.write(first), true);
    assert.equal(a.write(new Uint8Array([4])), true);
    assert.deepEqual(sink.events, [], "nothing is delivered inside write");
    await turn();
    assert.deepEqual(sink.bytes(), new Uint8Array([1, 2, 3, 4]));
    assert.notEqual(sink.chunks[0]!.buffer, first.buffer, "the receiver owns a copy");
    assert.equal(a.bufferedAmount, 0);
  });

  it("holds data until attach, and never delivers empty chunks", async () => {
    const [a, b] = memorySocketPair();
    a.write(new Uint8Array(0));
    a.write(new Uint8Array([9, 8]));
    await turn();
    assert.equal(a.bufferedAmount, 2);
    const sink = recorder();
    b.attach(sink);
    await turn();
    assert.deepEqual(sink.events, ["data:2"]);
    assert.throws(() => b.attach(recorder()), InvalidArgumentError);
    assert.throws(() => a.write("x" as unknown as Uint8Array), InvalidArgumentError);
  });

  it("returns false above the high-water mark and drains once the paused peer resumes", async () => {
    const [a, b] = memorySocketPair({ highWaterMark: 10 });
    const writer = recorder();
    const reader = recorder();
    a.attach(writer);
    b.attach(reader);
    b.pause();
    assert.equal(a.write(new Uint8Array(6)), true);
    assert.equal(a.write(new Uint8Array(4)), true, "exactly at the mark is still writable");
    assert.equal(a.write(new Uint8Array(1)), false);
    assert.equal(a.write(new Uint8Array(5)), false, "writing while false still queues");
    assert.equal(a.bufferedAmount, 16);
    await turn();
    assert.deepEqual(reader.events, [], "a paused socket delivers nothing");
    assert.deepEqual(writer.events, []);
    b.resume();
    await turn();
    assert.deepEqual(reader.events, ["data:6", "data:4", "data:1", "data:5"]);
    assert.deepEqual(writer.events, ["drain"]);
    assert.equal(a.bufferedAmount, 0);
  });

  it("pausing inside data stops delivery at that chunk", async () => {
    const [a, b] = memorySocketPair({ highWaterMark: 2 });
    const writer = recorder();
    a.attach(writer);
    const reader = recorder(() => b.pause());
    b.attach(reader);
    a.write(new Uint8Array([1]));
    a.write(new Uint8Array([2]));
    a.write(new Uint8Array([3, 3]));
    await turn();
    assert.deepEqual(reader.events, ["data:1"]);
    assert.equal(a.bufferedAmount, 3);
    assert.deepEqual(writer.events, [], "3 bytes undelivered is still above the mark");
    b.resume();
    await turn();
    assert.deepEqual(reader.events, ["data:1", "data:1"]);
    assert.deepEqual(writer.events, ["drain"], "2 bytes undelivered: at the mark again");
    b.resume();
    await turn();
    assert.deepEqual(reader.bytes(), new Uint8Array([1, 2, 3, 3]));
  });

  it("graceful close delivers everything, then closes both ends without error", async () => {
    const [a, b] = memorySocketPair();
    const left = recorder();
    const right = recorder();
    a.attach(left);
    b.attach(right);
    b.write(new Uint8Array([7]));
    a.write(new Uint8Array([1, 2]));
    a.close();
    assert.equal(a.write(new Uint8Array([3])), false, "writes after close are refused");
    a.close();
    assert.deepEqual(await b.closed, { error: undefined });
    assert.deepEqual(await a.closed, { error: undefined });
    assert.deepEqual(right.events, ["data:2", "close"]);
    assert.deepEqual(left.events, ["data:1", "close"]);
    assert.equal(b.write(new Uint8Array([1])), false);
    b.close(new Error("late"));
    assert.deepEqual(await b.closed, { error: undefined }, "closed settles once");
  });

  it("graceful close waits for a paused peer, and the closing side resumes to see the end", async () => {
    const [a, b] = memorySocketPair();
    const left = recorder();
    const right = recorder();
    a.attach(left);
    b.attach(right);
    a.pause();
    b.pause();
    a.write(new Uint8Array(3));
    b.write(new Uint8Array(5));
    a.close();
    await turn();
    assert.deepEqual(right.events, [], "the paused peer has not read the end yet");
    b.resume();
    await b.closed;
    await a.closed;
    assert.deepEqual(right.events, ["data:3", "close"]);
    assert.deepEqual(left.events, ["data:5", "close"]);
  });

  it("close(error) resets: queued bytes are dropped and the peer sees a reset", async () => {
    const [a, b] = memorySocketPair();
    const left = recorder();
    const right = recorder();
    a.attach(left);
    b.attach(right);
    b.pause();
    a.write(new Uint8Array(100));
    const reason = new Error("boom");
    a.close(reason);
    assert.equal(a.bufferedAmount, 0);
    assert.equal(a.write(new Uint8Array(1)), false);
    assert.equal((await a.closed).error, reason);
    const peerError = (await b.closed).error;
    assert.ok(peerError instanceof ConnectionClosedError);
    assert.match(peerError.message, /reset by peer/);
    assert.deepEqual(left.events, ["close:Error"]);
    assert.deepEqual(right.events, ["close:ConnectionClosedError"]);
    a.close();
    b.close(new Error("again"));
  });

  it("a socket that ends before attach settles closed and tells the sink on attach", async () => {
    const [a, b] = memorySocketPair();
    a.close(new Error("early"));
    assert.ok((await b.closed).error instanceof ConnectionClosedError);
    const sink = recorder();
    b.attach(sink);
    await turn();
    assert.deepEqual(sink.events, ["close:ConnectionClosedError"]);
  });

  it("rejects a bad high-water mark", () => {
    assert.throws(() => memorySocketPair({ highWaterMark: -1 }), InvalidArgumentError);
    assert.throws(() => memorySocketPair({ highWaterMark: 1.5 }), InvalidArgumentError);
  });
});

describe("memoryNetwork", () => {
  it("connects a client to the listener's onSocket", async () => {
    const network = memoryNetwork({ label: "net" });
    const accepted: Socket[] = [];
    const listener = await network.listen((socket) => accepted.push(socket));
    assert.equal(listener.address.url, "memory://net:1");
    await assert.rejects(network.listen(() => {}), /address already in use/);
    const client = await network.connect();
    assert.equal(accepted.length, 1);
    const server = accepted[0]!;
    const serverSink = recorder((chunk) => server.write(chunk));
    server.attach(serverSink);
    const clientSink = recorder();
    client.attach(clientSink);
    client.write(new TextEncoder().encode("echo"));
    await turn();
    assert.equal(new TextDecoder().decode(clientSink.bytes()), "echo");
    assert.equal(client.info.remoteAddress, server.info.localAddress);
    await listener.close();
    await listener.close();
    await assert.rejects(network.connect(), ConnectError);
    client.close();
    assert.deepEqual(await server.closed, { error: undefined });
    assert.deepEqual(await client.closed, { error: undefined });
  });

  it("honours an aborted signal and a throwing onSocket", async () => {
    const network = memoryNetwork();
    const listener = await network.listen(() => {
      throw new Error("handler failed");
    });
    const reason = new Error("abort!");
    await assert.rejects(
      network.connect({ signal: AbortSignal.abort(reason) }),
      (e) => e === reason,
    );
    const controller = new AbortController();
    const pending = network.connect({ signal: controller.signal });
    controller.abort(reason);
    await assert.rejects(pending, (e) => e === reason);
    const client = await network.connect();
    assert.ok((await client.closed).error instanceof ConnectionClosedError);
    await listener.close();
  });
});
