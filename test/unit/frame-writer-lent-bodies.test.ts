/**
 * The frame writer's lent bodies: a message sent with `giveBack` has its body written with the
 * socket's `writeLent` only when the body reaches the socket whole (passed through, not copied),
 * and `giveBack` is then the socket's to call. Copied bodies, sockets without `writeLent` and
 * messages dropped before they reach the socket never give anything back (the memory is left to
 * the garbage collector), so no owner ever reuses memory a socket may still read.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FrameWriter, GATHER_CHUNK_MAX } from "../../src/connection/frame-writer.ts";
import { MessageType } from "../../src/protocol/messages.ts";
import type { Socket } from "../../src/socket.ts";
import { ForwardingSocket } from "../helpers/forwarding-socket.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";

/** Records what goes through `write` and `writeLent`; lent chunks complete on `complete()`. */
class LendingSocket extends ForwardingSocket {
  readonly plain: Uint8Array[] = [];
  readonly lent: { chunk: Uint8Array; giveBack: () => void }[] = [];
  override write(chunk: Uint8Array): boolean {
    this.plain.push(chunk);
    return super.write(chunk);
  }
  writeLent(chunk: Uint8Array, giveBack: () => void): boolean {
    this.lent.push({ chunk, giveBack });
    return super.write(chunk);
  }
}

function setup(lending: boolean) {
  const [a, b] = memorySocketPair();
  b.attach({ data: () => {}, drain: () => {}, close: () => {} });
  const socket: Socket = lending ? new LendingSocket(a) : new ForwardingSocket(a);
  const writer = new FrameWriter(socket, {
    writeHardCap: 64 << 20,
    peer: "memory peer",
    onFatal: (error) => assert.fail(String(error)),
  });
  const done = () => {
    writer.abort(new Error("test over"));
    a.close();
    b.close();
  };
  return { socket, writer, done };
}

const chunk = (body: Uint8Array, chunkIndex = 0) =>
  ({ type: MessageType.ChunkFetchSuccess, streamId: 1, chunkIndex, body }) as const;
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

test("a body written whole goes through writeLent; giveBack is the socket's to call", async () => {
  const { socket, writer, done } = setup(true);
  const lending = socket as LendingSocket;
  try {
    const body = new Uint8Array(GATHER_CHUNK_MAX);
    let givenBack = 0;
    writer.writeMessage(chunk(body), undefined, () => givenBack++);
    await tick();
    assert.equal(lending.lent.length, 1);
    assert.equal(lending.lent[0]!.chunk, body, "the body itself, not a copy");
    assert.ok(!lending.plain.includes(body));
    assert.equal(givenBack, 0, "not given back by the writer itself");
    lending.lent[0]!.giveBack();
    assert.equal(givenBack, 1);
  } finally {
    done();
  }
});

test("copied bodies, a socket without writeLent and dropped messages never give back", async () => {
  let givenBack = 0;
  const count = () => givenBack++;
  {
    // Below GATHER_CHUNK_MAX: copied into the slab or a gather buffer, or written as is.
    const { socket, writer, done } = setup(true);
    writer.writeMessage(chunk(new Uint8Array(100)), undefined, count);
    writer.writeMessage(chunk(new Uint8Array(GATHER_CHUNK_MAX - 1), 1), undefined, count);
    await tick();
    assert.equal((socket as LendingSocket).lent.length, 0);
    done();
  }
  {
    const { writer, done } = setup(false);
    writer.writeMessage(chunk(new Uint8Array(GATHER_CHUNK_MAX)), undefined, count);
    await tick();
    done();
  }
  {
    // Dropped before the flush: the writer closed.
    const { socket, writer, done } = setup(true);
    writer.writeMessage(chunk(new Uint8Array(GATHER_CHUNK_MAX)), undefined, count);
    writer.abort(new Error("closed"));
    await tick();
    assert.equal((socket as LendingSocket).lent.length, 0);
    done();
  }
  {
    // The same memory queued twice: neither is lent.
    const { socket, writer, done } = setup(true);
    const body = new Uint8Array(GATHER_CHUNK_MAX);
    writer.writeMessage(chunk(body), undefined, count);
    writer.writeMessage(chunk(body, 1), undefined, count);
    await tick();
    assert.equal((socket as LendingSocket).lent.length, 0);
    done();
  }
  await tick();
  assert.equal(givenBack, 0);
});
