/**
 * Reply memory under pressure, without sockets: connections that never read (their replies are
 * never released) cannot take the reserve a connection holding nothing needs for its first reply,
 * and while anybody waits for memory, a connection holding some whose peer has not read for
 * `replyPressureTimeoutMs` is reset with a LimitError naming it (and counted); connections that
 * read, or a server nobody waits on, are left alone.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { LimitError } from "../../src/errors.ts";
import {
  type GatedReply,
  ReplyGate,
  type ReplyGateConnection,
} from "../../src/responder/reply-gate.ts";
import { ReplyMemory } from "../../src/responder/reply-memory.ts";
import { TransferBudget } from "../../src/responder/transfer-budget.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

const MiB = 1024 * 1024;

/** A reply that counts its starts; it holds its charge until the test releases it. */
function reply(): GatedReply & { starts: number } {
  return {
    charged: 0,
    waiting: false,
    starts: 0,
    start() {
      this.starts++;
    },
    drop() {},
  };
}

/** A connection whose peer stopped reading at `stalledAt` (undefined: it reads). */
class FakeConnection implements ReplyGateConnection {
  stalledAt: number | undefined;
  errors: LimitError[] = [];
  gate: ReplyGate | undefined;
  constructor(stalledAt: number | undefined) {
    this.stalledAt = stalledAt;
  }
  stalledSince(): number | undefined {
    return this.stalledAt;
  }
  reset(error: LimitError): void {
    this.errors.push(error);
    this.gate?.close(); // as the request handler does when its connection closes
  }
}

test("connections that never read cannot take the reserve a first reply needs", () => {
  const memory = new ReplyMemory(64 * MiB, 0);
  assert.equal(memory.reserve, 16 * MiB);
  // Sixteen connections each ask for 100 chunks and never release a byte (their peers do not read).
  const stuck = Array.from({ length: 16 }, () => new ReplyGate(memory, 8 * MiB));
  const replies = stuck.map((gate) => {
    const own = Array.from({ length: 100 }, reply);
    for (const r of own) gate.admit(r);
    return own;
  });
  const started = replies.map((own) => own.filter((r) => r.starts > 0).length);
  console.log(
    `16 connections that never read: ${memory.charged / MiB} MiB charged of 64 (windows ` +
      `${started.join(" ")} MiB); ${memory.waiting} connections waiting`,
  );
  // Those holding memory stop at the budget less its reserve; the reserve went to first replies.
  assert.ok(memory.charged <= 64 * MiB);
  assert.equal(started.reduce((a, b) => a + b, 0), 48 + 10, "six windows and ten first replies");
  // A normal client's fetch (its connection holds nothing) still finds room, ahead of the line.
  const normal = new ReplyGate(memory, 8 * MiB);
  const first = reply();
  normal.admit(first);
  assert.equal(first.starts, 1, "the normal client's reply started at once");
  normal.release(first);
  const second = reply();
  normal.admit(second);
  assert.equal(second.starts, 1, "and its next one too");
  normal.release(second);
  for (const gate of [...stuck, normal]) gate.close();
});

test("a waiting connection holding nothing gets its turn behind a head stopped by the reserve", () => {
  const memory = new ReplyMemory(4 * MiB, 0);
  const busy = new ReplyGate(memory, 8 * MiB);
  const own = Array.from({ length: 6 }, reply);
  for (const r of own) busy.admit(r);
  assert.equal(own.filter((r) => r.starts > 0).length, 3, "3 of 4 MiB: the rest is the reserve");
  const other = new ReplyGate(memory, 8 * MiB);
  const a = reply();
  other.admit(a);
  assert.equal(a.starts, 1, "the reserve");
  const late = new ReplyGate(memory, 8 * MiB);
  const b = reply();
  late.admit(b);
  assert.equal(b.starts, 0, "the budget is full");
  assert.equal(memory.waiting, 2, "busy (for more) and late wait");
  // busy's first reply is written: busy heads the line but may not go past the budget less its
  // reserve (it still holds 2 MiB, and others hold 1); late, holding nothing, gets the room.
  busy.release(own[0]!);
  assert.equal(b.starts, 1);
  assert.equal(own.filter((r) => r.starts > 0).length, 3);
  for (const gate of [busy, other, late]) gate.close();
  for (const r of [...own, a, b]) {
    if (r.charged > 0) (r === a ? other : r === b ? late : busy).release(r);
  }
  assert.equal(memory.charged, 0);
  assert.equal(memory.waiting, 0);
});

test("under pressure, a connection whose peer stopped reading is reset naming the limit", () => {
  const timeoutMs = 40;
  const clock = new FakeClock();
  const memory = new ReplyMemory(4 * MiB, timeoutMs, clock);
  const longAgo = clock.now() - 60_000;
  const stalled = new FakeConnection(longAgo);
  const reading = new FakeConnection(undefined);
  const gates = [stalled, reading].map((connection) => {
    const gate = new ReplyGate(memory, 2 * MiB, connection);
    connection.gate = gate;
    return gate;
  });
  const stalledReplies = [reply(), reply()];
  for (const r of stalledReplies) gates[0]!.admit(r);
  const readingReply = reply();
  gates[1]!.admit(readingReply);
  assert.equal(memory.charged, 3 * MiB);
  // Nobody waits: a stalled peer on a server with room is the slow-consumer deadline's business.
  clock.advance(timeoutMs * 3);
  assert.equal(stalled.errors.length, 0);
  assert.equal(memory.pressureResets, 0);
  assert.equal(clock.pendingTimers, 0, "no timer without pressure");
  // A newcomer finds the budget full and waits: the stalled connection is reset, the one reading
  // is not, and the newcomer gets the memory once the stalled one's replies are dropped.
  const newcomer = new ReplyGate(memory, 2 * MiB);
  const wanted = [reply(), reply()];
  for (const r of wanted) newcomer.admit(r);
  assert.equal(wanted[0]!.starts, 1, "the reserve");
  assert.equal(wanted[1]!.starts, 0, "the newcomer waits for its second");
  // Stalled long before the line formed: its deadline is already due, so it is reset at once.
  clock.advance(0);
  assert.equal(stalled.errors.length, 1, "reset as soon as somebody waits");
  const error = stalled.errors[0]!;
  assert.equal(error.code, "ERR_LIMIT");
  assert.match(error.message, /replyPressureTimeoutMs 40/);
  assert.match(error.message, /held 2097152 bytes of replies its peer did not read/);
  console.log(`reset: ${error.message}`);
  assert.equal(reading.errors.length, 0);
  assert.equal(memory.pressureResets, 1);
  // The reset connection's replies are dropped as it closes (their charges given back).
  for (const r of stalledReplies) gates[0]!.release(r);
  assert.equal(wanted[1]!.starts, 1, "the newcomer got the memory back");
  assert.equal(memory.waiting, 0);
  for (const r of wanted) newcomer.release(r);
  gates[1]!.release(readingReply);
  for (const gate of [...gates, newcomer]) gate.close();
  assert.equal(memory.charged, 0);
  assert.equal(clock.pendingTimers, 0, "the pressure timer is gone with the line");
});

test("a holder that stalls while others wait is reset at its own deadline, not before", () => {
  const timeoutMs = 1_000;
  const clock = new FakeClock();
  const memory = new ReplyMemory(2 * MiB, timeoutMs, clock);
  const holder = new FakeConnection(undefined); // reading, for now
  const gate = new ReplyGate(memory, 2 * MiB, holder);
  holder.gate = gate;
  const held = [reply(), reply()];
  for (const r of held) gate.admit(r);
  const newcomer = new ReplyGate(memory, 2 * MiB);
  newcomer.admit(reply());
  newcomer.admit(reply());
  assert.ok(memory.waiting > 0, "somebody waits for memory");
  clock.advance(300);
  holder.stalledAt = clock.now(); // its peer stops reading 300 ms into the pressure
  // Past the first look (one deadline after the line formed, when it was stalled for 700 ms) ...
  clock.advance(timeoutMs - 1);
  assert.equal(holder.errors.length, 0, "not before its own deadline");
  clock.advance(1);
  assert.equal(holder.errors.length, 1, "reset exactly at stalledSince + replyPressureTimeoutMs");
  assert.match(holder.errors[0]!.message, /did not read for 1000 ms/);
  gate.close();
  newcomer.close();
});

test("replyPressureTimeoutMs is validated; 0 turns the deadline off", () => {
  assert.throws(() => new ReplyMemory(MiB, -1), /Invalid replyPressureTimeoutMs/);
  assert.throws(() => new TransferBudget(10, {}, MiB, 1.5), /Invalid replyPressureTimeoutMs/);
  const clock = new FakeClock();
  const memory = new ReplyMemory(2 * MiB, 0, clock);
  const stalled = new FakeConnection(clock.now() - 60_000);
  const gate = new ReplyGate(memory, 2 * MiB, stalled);
  gate.admit(reply());
  gate.admit(reply());
  const newcomer = new ReplyGate(memory, 2 * MiB);
  newcomer.admit(reply());
  newcomer.admit(reply());
  assert.equal(memory.waiting, 2);
  clock.advance(60_000);
  assert.equal(stalled.errors.length, 0);
  assert.equal(clock.armed, 0, "a disabled deadline arms no timer");
  gate.close();
  newcomer.close();
});
