/**
 * The socket under a gateway backend connection: it forwards everything, remembers whether the
 * backend refused a write until its drain (which wakes whoever waits for it), and keeps the
 * adapter's optional fast paths (`readBuffer` on the sink, `allocateUninitialized` on the socket)
 * exactly when they are there, since adapters choose their read path by their presence.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BackendSocket } from "../../src/gateway/backend-socket.ts";
import type { Socket, SocketSink } from "../../src/socket.ts";
import { ForwardingSocket } from "../helpers/forwarding-socket.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";
import { settle } from "../helpers/fake-clock.ts";

/** A memory socket that records the sink it was given. */
class SinkRecorder extends ForwardingSocket {
  sink: SocketSink | undefined;
  override attach(sink: SocketSink): void {
    this.sink = sink;
    super.attach(sink);
  }
}

test("blocked from a refused write until the drain, which wakes each waiter once", async () => {
  const [near, far] = memorySocketPair({ highWaterMark: 4 });
  const backend = new BackendSocket(near);
  const drains: string[] = [];
  backend.attach({ data() {}, drain: () => drains.push("sink"), close() {} });
  far.pause(); // the backend does not read
  far.attach({ data() {}, drain() {}, close() {} });
  assert.equal(backend.write(new Uint8Array(2)), true);
  assert.equal(backend.blocked, false);
  assert.equal(backend.write(new Uint8Array(8)), false);
  assert.equal(backend.blocked, true);
  assert.equal(backend.bufferedAmount, 10);
  backend.onceDrained(() => drains.push(`waiter sees blocked=${backend.blocked}`));
  far.resume();
  for (let turn = 0; turn < 5 && drains.length < 2; turn++) await settle();
  assert.deepEqual(drains, ["sink", "waiter sees blocked=false"], "the sink drains first");
  assert.equal(backend.write(new Uint8Array(1)), true);
  far.close();
  await backend.closed;
  backend.onceDrained(() => drains.push("after close"));
  assert.equal(drains.length, 2);
});

test("optional fast paths are forwarded exactly when present", () => {
  const [near] = memorySocketPair();
  const recorder = new SinkRecorder(near);
  const backend = new BackendSocket(recorder);
  assert.equal(backend.allocateUninitialized, undefined, "the inner socket has none");
  backend.attach({ data() {}, drain() {}, close() {} });
  assert.equal(recorder.sink!.readBuffer, undefined, "the sink has none");

  const view = new Uint8Array(16);
  const [other] = memorySocketPair();
  const withFastPaths: Socket = Object.assign(new SinkRecorder(other), {
    allocateUninitialized: (size: number) => new Uint8Array(size + 1),
  });
  const fast = new BackendSocket(withFastPaths);
  assert.equal(fast.allocateUninitialized!(3).byteLength, 4);
  fast.attach({ data() {}, readBuffer: () => view, drain() {}, close() {} });
  assert.equal((withFastPaths as SinkRecorder).sink!.readBuffer!(), view);
  near.close();
  other.close();
});
