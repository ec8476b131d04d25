/**
 * The frame writer's hard-cap check against a socket that reports a `bufferedAmount` that is no
 * byte count (issue 22: workerd's WebSocket has none, so an adapter passing it on read NaN, and
 * `NaN <= cap` is false). Such a writer must fail with an error naming the value — not a "NaN
 * bytes queued" slow-consumer `LimitError`, and never by letting writes pass unchecked — while a
 * finite amount under the cap writes normally.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { LimitError, TransportError } from "../../src/errors.ts";
import { FrameWriter } from "../../src/connection/frame-writer.ts";
import type { Socket } from "../../src/socket.ts";
import { ForwardingSocket } from "../helpers/forwarding-socket.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";

/** A working socket whose `bufferedAmount` reads as `amount` (cast: adapters may break the type). */
class ReportingSocket extends ForwardingSocket {
  readonly #amount: unknown;
  constructor(inner: Socket, amount: unknown) {
    super(inner);
    this.#amount = amount;
  }
  override get bufferedAmount(): number {
    return this.#amount as number;
  }
}

async function writeOnce(amount: unknown): Promise<unknown[]> {
  const [a, b] = memorySocketPair();
  b.attach({ data: () => {}, drain: () => {}, close: () => {} });
  const fatal: unknown[] = [];
  const writer = new FrameWriter(new ReportingSocket(a, amount), {
    writeHardCap: 1024 * 1024,
    peer: "memory peer",
    onFatal: (error) => fatal.push(error),
  });
  writer.write([new Uint8Array(16)]);
  await new Promise((resolve) => setTimeout(resolve, 0));
  writer.abort(new Error("test over"));
  a.close();
  b.close();
  return fatal;
}

for (const amount of [NaN, undefined, Infinity, -Infinity]) {
  test(`a socket reporting bufferedAmount ${String(amount)} fails the writer, naming it`, async () => {
    const fatal = await writeOnce(amount);
    assert.equal(fatal.length, 1, `one fatal error, got ${fatal.length}`);
    const error = fatal[0];
    assert.ok(error instanceof TransportError, `a TransportError, got ${String(error)}`);
    assert.ok(!(error instanceof LimitError), "not reported as a slow consumer");
    assert.equal(error.code, "ERR_TRANSPORT");
    assert.match(error.message, /memory peer/);
    assert.match(error.message, new RegExp(`reports ${String(amount)} bytes buffered`));
    assert.match(error.message, /write hard cap of 1048576 bytes cannot be enforced/);
  });
}

test("a finite bufferedAmount under the cap writes without a fatal error", async () => {
  assert.deepEqual(await writeOnce(0), []);
});

test("a finite bufferedAmount above the cap is still a slow consumer (LimitError)", async () => {
  const fatal = await writeOnce(2 * 1024 * 1024);
  assert.equal(fatal.length, 1);
  assert.ok(fatal[0] instanceof LimitError);
  assert.match((fatal[0] as Error).message, /above the write hard cap/);
});
