/**
 * A promise socket whose transport breaks without ever settling its read or its close — what a
 * workerd socket does when a later request than the one that opened it uses it: the write
 * rejects ("Cannot perform I/O on behalf of a different request"), the pending read and
 * `socket.close()` never settle. Everything in flight must fail at once with that cause (not
 * time out one request after another), and `closed` must still settle. Runs under Node and Deno.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TransportClient } from "../../src/client/transport-client.ts";
import { ConnectionClosedError, TimeoutError } from "../../src/errors.ts";
import { PromiseSocket } from "../../adapters/promise-socket.ts";
import type { PromiseSocketIo } from "../../adapters/promise-socket-io.ts";
import { SinkRecorder } from "../conformance/socket-recorder.ts";

const CROSS_REQUEST = "Cannot perform I/O on behalf of a different request.";

/** Reads and closes that never settle; every write rejects with workerd's error. */
class StuckIo implements PromiseSocketIo {
  reads = 0;
  writes = 0;
  shutdowns = 0;
  read(): Promise<Uint8Array | null> {
    this.reads++;
    return new Promise(() => {});
  }
  write(): Promise<number> {
    this.writes++;
    return Promise.reject(new Error(CROSS_REQUEST));
  }
  endWrite(): Promise<void> {
    return new Promise(() => {});
  }
  shutdown(): Promise<unknown>[] {
    this.shutdowns++;
    return [new Promise(() => {})];
  }
}

const info = { transport: "tcp", remoteAddress: "10.0.0.1:7337" };
/** Keeps the socket's timers referenced: here they are all that keeps the test's loop alive. */
const keepTimers = { unrefTimer: () => {} };

/** The chain of causes of `error`, outermost first. */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = error; e !== undefined && chain.length < 10; e = (e as { cause?: unknown }).cause) {
    chain.push(e);
  }
  return chain;
}

describe("a promise socket over a transport that breaks and never settles", () => {
  it("tells the sink the real cause at once and settles closed after shutdownWaitMs", async () => {
    const io = new StuckIo();
    const socket = new PromiseSocket(io, info, {
      highWaterMark: 1024,
      closeTimeoutMs: 0,
      shutdownWaitMs: 50,
      ...keepTimers,
    });
    const sink = new SinkRecorder();
    socket.attach(sink);
    socket.write(new Uint8Array([1, 2, 3]));
    const told = await sink.closedBySink;
    assert.ok(told instanceof ConnectionClosedError, String(told));
    assert.match((told as Error).message, /failed to write/);
    assert.equal((told as Error & { cause: Error }).cause.message, CROSS_REQUEST);
    assert.equal(io.shutdowns, 1);
    // The read in flight and the io's shutdown never settle: closed settles regardless.
    const closed = await socket.closed;
    assert.equal(closed.error, told);
    assert.deepEqual(sink.violations, []);
    assert.equal(socket.write(new Uint8Array([4])), false);
    assert.equal(io.writes, 1);
  });

  it("fails every request in flight with that cause long before their deadline", async () => {
    const io = new StuckIo();
    const socket = new PromiseSocket(io, info, {
      highWaterMark: 1024,
      closeTimeoutMs: 0,
      ...keepTimers,
    });
    const client = new TransportClient(socket);
    const started = performance.now();
    const calls = [1, 2, 3].map((n) =>
      client.sendRpc(new Uint8Array([n]), { timeoutMs: 60_000 }).then(
        () => assert.fail("an RPC over a broken transport succeeded"),
        (error: unknown) => error,
      )
    );
    const errors = await Promise.all(calls);
    const elapsed = performance.now() - started;
    console.log(`3 RPCs failed after ${elapsed.toFixed(0)} ms`);
    assert.ok(elapsed < 30_000, `failed after ${elapsed} ms, a timeout rather than the cause`);
    for (const error of errors) {
      assert.ok(error instanceof ConnectionClosedError, String(error));
      const messages = causes(error).map((e) => (e as Error).message);
      assert.ok(messages.includes(CROSS_REQUEST), messages.join(" ← "));
    }
    // The default wait (2 s) bounds closed too.
    await client.close().catch(() => {});
    assert.notEqual((await socket.closed).error, undefined);
  });

  it("a graceful close whose end never comes still fails and settles closed", async () => {
    const io = new StuckIo();
    const socket = new PromiseSocket(io, info, {
      highWaterMark: 1024,
      closeTimeoutMs: 50,
      shutdownWaitMs: 50,
      ...keepTimers,
    });
    const sink = new SinkRecorder();
    socket.attach(sink);
    socket.close(); // endWrite never settles, the peer's end never comes
    assert.ok((await sink.closedBySink) instanceof TimeoutError);
    assert.ok((await socket.closed).error instanceof TimeoutError);
    assert.deepEqual(sink.violations, []);
  });
});
