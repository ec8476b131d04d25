/**
 * The socket conformance suite: every adapter (memory, Node TCP/TLS, Deno TCP/TLS, WebSocket) runs
 * this same suite in its real runtime, through its real `Listen` and `Connect`.
 *
 * Under Node each test also checks that no socket or server handle is left behind
 * (`process.getActiveResourcesInfo()`); under Deno, register the cases with `Deno.test`
 * (`socketConformanceCases`) so its resource and op sanitizers do the same. Under Bun (the Node
 * adapters' suites, run by `bun test`) there is no such check: a skipped test says so.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConnectError, ConnectionClosedError } from "../../src/errors.ts";
import type { Socket } from "../../src/socket.ts";
import {
  connectPair,
  leakCheckSkipped,
  noViolations,
  shutdown,
  type SocketTransport,
  withoutLeaks,
} from "./socket-harness.ts";
import {
  patternChunk,
  patternMismatch,
  SinkRecorder,
  turns,
  writePattern,
} from "./socket-recorder.ts";

export {
  type ConnectedPair,
  connectPair,
  type PairOptions,
  type SocketTransport,
} from "./socket-harness.ts";

/** Registers the conformance suite for one transport. */
export function runSocketConformance(name: string, transport: SocketTransport): void {
  describe(`socket conformance: ${name}`, () => {
    for (const { title, body } of socketConformanceCases(transport)) {
      it(title, { timeout: 120_000 }, () => withoutLeaks(body));
    }
    // Never pass silently: where the leak check cannot see handles, the report says so.
    if (leakCheckSkipped !== undefined) {
      it(
        `no handle left behind: skipped, ${leakCheckSkipped}`,
        { skip: leakCheckSkipped },
        () => {},
      );
    }
  });
}

/** One conformance test: a title and a body that leaves nothing open when it resolves. */
export interface ConformanceCase {
  readonly title: string;
  readonly body: () => Promise<void>;
}

/**
 * The suite's cases, for runners that register tests themselves (under Deno, `Deno.test` with
 * its resource and op sanitizers, which `node:test` steps do not get).
 */
export function socketConformanceCases(transport: SocketTransport): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const test = (title: string, body: () => Promise<void>) => cases.push({ title, body });

  test("echoes bytes both ways and reports its addresses", async () => {
    const pair = await connectPair(transport);
    try {
      const serverSink = new SinkRecorder({ onData: (chunk) => pair.server.write(chunk) });
      const clientSink = new SinkRecorder({ keep: true });
      pair.server.attach(serverSink);
      pair.client.attach(clientSink);
      const message = new TextEncoder().encode("hello ferry ⛴");
      assert.equal(pair.client.write(message), true);
      await clientSink.waitForBytes(message.byteLength);
      assert.deepEqual(clientSink.bytes(), message);
      assert.equal(pair.client.info.transport, pair.server.info.transport);
      assert.ok(pair.client.info.remoteAddress.length > 0);
      assert.ok(pair.server.info.remoteAddress.length > 0);
      noViolations(serverSink, clientSink);
    } finally {
      await shutdown(pair);
    }
  });

  test("holds bytes that arrive before attach", async () => {
    const pair = await connectPair(transport);
    try {
      const clientSink = new SinkRecorder();
      pair.client.attach(clientSink);
      pair.client.write(patternChunk(0, 1000));
      await turns(5);
      const serverSink = new SinkRecorder({ checkPattern: true });
      pair.server.attach(serverSink);
      await serverSink.waitForBytes(1000);
      assert.equal(serverSink.received, 1000);
      assert.equal(serverSink.firstMismatch, -1);
    } finally {
      await shutdown(pair);
    }
  });

  test("keeps 20 000 small writes in order", async () => {
    const pair = await connectPair(transport);
    try {
      const serverSink = new SinkRecorder({ checkPattern: true });
      const clientSink = new SinkRecorder();
      pair.server.attach(serverSink);
      pair.client.attach(clientSink);
      await writePattern(pair.client, clientSink, 20_000 * 7, 7);
      await serverSink.waitForBytes(20_000 * 7);
      assert.equal(serverSink.received, 20_000 * 7);
      assert.equal(serverSink.firstMismatch, -1, "bytes arrived out of order or corrupted");
      noViolations(serverSink, clientSink);
    } finally {
      await shutdown(pair);
    }
  });

  test("moves 64 MiB intact under backpressure", async () => {
    const total = 64 * 1024 * 1024;
    const pair = await connectPair(transport, { highWaterMark: 256 * 1024 });
    try {
      const serverSink = new SinkRecorder({ checkPattern: true });
      const clientSink = new SinkRecorder();
      pair.server.attach(serverSink);
      pair.client.attach(clientSink);
      const { refusals } = await writePattern(pair.client, clientSink, total, 64 * 1024);
      await serverSink.waitForBytes(total);
      assert.ok(refusals > 0, "write never returned false while writing 64 MiB");
      assert.ok(clientSink.drains >= refusals, "every refusal was followed by a drain");
      assert.equal(serverSink.received, total);
      assert.equal(serverSink.firstMismatch, -1, "bytes arrived out of order or corrupted");
      noViolations(serverSink, clientSink);
    } finally {
      await shutdown(pair);
    }
  });

  test("delivered chunks stay intact: the receiver owns them", async () => {
    const total = 4 * 1024 * 1024;
    const pair = await connectPair(transport);
    try {
      const serverSink = new SinkRecorder({ keep: true });
      const clientSink = new SinkRecorder();
      pair.server.attach(serverSink);
      pair.client.attach(clientSink);
      await writePattern(pair.client, clientSink, total, 16 * 1024);
      await serverSink.waitForBytes(total);
      // Checked only now: an adapter reusing a read buffer would have overwritten early chunks.
      assert.equal(patternMismatch(serverSink.bytes(), 0), -1, "a delivered chunk changed later");
    } finally {
      await shutdown(pair);
    }
  });

  test("a sink that throws resets the socket with what it threw", async () => {
    const pair = await connectPair(transport);
    try {
      const thrown = new Error("sink exploded");
      const serverSink = new SinkRecorder({
        onData: () => {
          throw thrown;
        },
      });
      const clientSink = new SinkRecorder();
      pair.server.attach(serverSink);
      pair.client.attach(clientSink);
      pair.client.write(new Uint8Array([1, 2, 3]));
      assert.equal((await pair.server.closed).error, thrown);
      assert.equal(serverSink.closeError, thrown);
      const { error } = await pair.client.closed;
      if (transport.resetReachesPeer ?? true) {
        assert.ok(error instanceof ConnectionClosedError, `peer saw ${String(error)}`);
      }
      noViolations(clientSink);
    } finally {
      await shutdown(pair);
    }
  });

  test("pause stops delivery and backpressures the writer; resume restarts it", async () => {
    const pair = await connectPair(transport, { highWaterMark: 64 * 1024 });
    try {
      const serverSink = new SinkRecorder({ checkPattern: true });
      const clientSink = new SinkRecorder();
      pair.server.pause();
      pair.server.attach(serverSink);
      pair.client.attach(clientSink);
      // Write until the paused reader pushes back all the way to the writer: write returns
      // false and no drain follows (kernel and adapter buffers are full).
      const pushesBack = transport.pausePushesBack ?? true;
      const limit = pushesBack ? 256 * 1024 * 1024 : 4 * 1024 * 1024;
      let written = 0;
      let stalled = false;
      while (!stalled && written < limit) {
        const accepted = pair.client.write(patternChunk(written, 64 * 1024));
        written += 64 * 1024;
        if (accepted) continue;
        const drains = clientSink.drains;
        await turns(20);
        stalled = clientSink.drains === drains;
      }
      if (pushesBack) {
        assert.ok(stalled, "a paused reader never pushed back on the writer");
        assert.ok(pair.client.bufferedAmount > 0, "a stalled writer has bytes buffered");
      } else {
        await turns(20);
      }
      // Best effort: at most a chunk already read may slip through after pause().
      assert.ok(serverSink.dataEvents <= 1, `${serverSink.dataEvents} chunks while paused`);
      const drained = stalled ? clientSink.nextDrain() : Promise.resolve();
      pair.server.resume();
      await drained;
      await serverSink.waitForBytes(written);
      assert.equal(serverSink.received, written);
      assert.equal(serverSink.firstMismatch, -1);
      noViolations(serverSink, clientSink);
    } finally {
      await shutdown(pair);
    }
  });

  for (const closer of ["client", "server"] as const) {
    test(`graceful close by the ${closer} delivers everything, then ends both ends cleanly`, async () => {
      const pair = await connectPair(transport);
      try {
        const closing = pair[closer];
        const peer = closer === "client" ? pair.server : pair.client;
        const closingSink = new SinkRecorder();
        const peerSink = new SinkRecorder({ checkPattern: true });
        closing.attach(closingSink);
        peer.attach(peerSink);
        const total = 4 * 1024 * 1024;
        await writePattern(closing, closingSink, total, 256 * 1024);
        closing.close();
        assert.equal(closing.write(new Uint8Array([1])), false, "write after close()");
        assert.equal(await peerSink.closedBySink, undefined);
        assert.equal(peerSink.received, total, "bytes written before close() were lost");
        assert.equal(peerSink.firstMismatch, -1);
        assert.deepEqual(await peer.closed, { error: undefined });
        assert.deepEqual(await closing.closed, { error: undefined });
        assert.equal(closingSink.closeCalled, true);
        assert.equal(closingSink.closeError, undefined);
        assert.equal(peer.write(new Uint8Array([1])), false, "write after the peer closed");
        closing.close();
        peer.close();
        peer.close(new Error("too late"));
        assert.deepEqual(await peer.closed, { error: undefined }, "closed settles once");
        noViolations(closingSink, peerSink);
      } finally {
        await shutdown(pair);
      }
    });
  }

  test("close(error) resets: the peer's closed carries an error where resets reach it", async () => {
    const pair = await connectPair(transport);
    try {
      const clientSink = new SinkRecorder();
      const serverSink = new SinkRecorder();
      pair.client.attach(clientSink);
      pair.server.attach(serverSink);
      pair.client.write(patternChunk(0, 100));
      await serverSink.waitForBytes(100);
      const reason = new Error("abandon ship");
      pair.client.close(reason);
      assert.equal(pair.client.write(new Uint8Array([1])), false, "write after close(error)");
      assert.equal(pair.client.bufferedAmount, 0);
      assert.equal((await pair.client.closed).error, reason);
      assert.equal(clientSink.closeError, reason);
      const { error } = await pair.server.closed;
      if (transport.resetReachesPeer ?? true) {
        assert.ok(error instanceof ConnectionClosedError, `peer saw ${String(error)}`);
      }
      assert.equal(serverSink.closeCalled, true);
      assert.equal(serverSink.closeError, error);
      assert.equal(pair.server.write(new Uint8Array([1])), false);
      pair.client.close(new Error("again"));
      pair.client.close();
      assert.equal((await pair.client.closed).error, reason, "closed settles once");
      noViolations(clientSink, serverSink);
    } finally {
      await shutdown(pair);
    }
  });

  test("close(error) during a graceful close aborts it", async () => {
    const pair = await connectPair(transport);
    try {
      const clientSink = new SinkRecorder();
      const serverSink = new SinkRecorder();
      pair.client.attach(clientSink);
      pair.server.attach(serverSink);
      pair.server.pause();
      await writePattern(pair.client, clientSink, 256 * 1024, 64 * 1024);
      pair.client.close();
      const reason = new Error("give up");
      pair.client.close(reason);
      assert.equal((await pair.client.closed).error, reason);
      assert.equal(clientSink.closeError, reason);
      assert.equal(pair.client.write(new Uint8Array([1])), false);
      // The peer ends too. Which way is up to the OS: Linux may drop an RST aimed at a
      // zero-window receiver, which then sees the end of the stream instead of a reset.
      pair.server.resume();
      await pair.server.closed;
      assert.equal(serverSink.closeCalled, true);
      noViolations(clientSink, serverSink);
    } finally {
      await shutdown(pair);
    }
  });

  test("connect to an address where nothing listens fails with ConnectError", async () => {
    const listener = await transport.listen({})(() => {
      throw new Error("nobody should connect");
    });
    const { address } = listener;
    await listener.close();
    await listener.close();
    await assert.rejects(
      transport.connect(address, {})({ timeoutMs: 10_000 }),
      (error) => error instanceof ConnectError && error.message.includes(String(address.port)),
    );
  });

  test("connect with an aborted signal rejects with its reason and opens nothing", async () => {
    const accepted: Socket[] = [];
    const listener = await transport.listen({})((socket) => accepted.push(socket));
    try {
      const reason = new Error("not today");
      await assert.rejects(
        transport.connect(listener.address, {})({ signal: AbortSignal.abort(reason) }),
        (error) => error === reason,
      );
      await turns(5);
      assert.equal(accepted.length, 0, "an aborted connect still reached the listener");
    } finally {
      await listener.close();
      for (const socket of accepted) socket.close(new Error("cleanup"));
      await Promise.all(accepted.map((socket) => socket.closed));
    }
  });

  test("closing the listener keeps accepted sockets open", async () => {
    const pair = await connectPair(transport);
    try {
      await pair.listener.close();
      if (!(transport.listenerCloseKeepsSockets ?? true)) {
        pair.client.attach(new SinkRecorder());
        pair.server.attach(new SinkRecorder());
        await Promise.all([pair.client.closed, pair.server.closed]);
        return;
      }
      const serverSink = new SinkRecorder({ onData: (chunk) => pair.server.write(chunk) });
      const clientSink = new SinkRecorder({ keep: true });
      pair.server.attach(serverSink);
      pair.client.attach(clientSink);
      pair.client.write(new Uint8Array([4, 2]));
      await clientSink.waitForBytes(2);
      assert.deepEqual(clientSink.bytes(), new Uint8Array([4, 2]));
    } finally {
      await shutdown(pair);
    }
  });
  return cases;
}
