import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DeadlineHeap,
  deadlineHeapOf,
  type HeapEntry,
} from "../../src/connection/deadline-heap.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { FakeClock, settle } from "../helpers/fake-clock.ts";

/** An entry that records when it was told, and may reschedule itself. */
class Entry implements HeapEntry {
  dueAt = Infinity;
  heapIndex = -1;
  readonly told: number[] = [];
  onDue: ((now: number) => void) | undefined;
  constructor(readonly name: string, readonly log: string[]) {}
  due(now: number): void {
    this.told.push(now);
    this.log.push(this.name);
    this.onDue?.(now);
  }
}

test("entries are told in due order, never early, with one timer for all of them", () => {
  const clock = new FakeClock();
  const heap = new DeadlineHeap(clock);
  const log: string[] = [];
  const entries = Array.from({ length: 50 }, (_, i) => new Entry(`e${i}`, log));
  // Due times scrambled (37 is coprime to 50: all distinct).
  const dueAt = entries.map((_, i) => clock.now() + ((i * 37) % 50) * 10 + 5);
  entries.forEach((entry, i) => heap.schedule(entry, dueAt[i]!));
  assert.equal(clock.pendingTimers, 1, "one timer, however many entries");
  assert.equal(heap.size, 50);
  clock.advance(1_000);
  assert.equal(log.length, 50);
  entries.forEach((entry, i) => assert.deepEqual(entry.told, [dueAt[i]], "told at its due time"));
  const order = log.map((name) => entries.find((e) => e.name === name)!.told[0]!);
  assert.deepEqual(order, [...order].sort((a, b) => a - b), "earliest first");
  assert.equal(clock.pendingTimers, 0, "nothing scheduled: no timer");
  assert.equal(heap.size, 0);
});

test("an entry is told at its due time to the millisecond, not at the timer's first firing", () => {
  const clock = new FakeClock();
  const heap = new DeadlineHeap(clock);
  const log: string[] = [];
  const late = new Entry("late", log);
  const early = new Entry("early", log);
  const start = clock.now();
  heap.schedule(late, start + 100);
  heap.schedule(early, start + 30);
  clock.advance(29);
  assert.deepEqual(log, []);
  clock.advance(1);
  assert.deepEqual(early.told, [start + 30]);
  clock.advance(69);
  assert.deepEqual(late.told, []);
  clock.advance(1);
  assert.deepEqual(late.told, [start + 100]);
});

test("moving an entry earlier re-arms the timer; later or removed, it is not told early", () => {
  const clock = new FakeClock();
  const heap = new DeadlineHeap(clock);
  const log: string[] = [];
  const a = new Entry("a", log);
  const b = new Entry("b", log);
  const start = clock.now();
  heap.schedule(a, start + 100);
  heap.schedule(b, start + 200);
  heap.schedule(b, start + 10); // earlier than anything armed
  clock.advance(10);
  assert.deepEqual(b.told, [start + 10]);
  heap.schedule(a, start + 300); // later: the timer armed for 100 fires, finds nothing due
  clock.advance(100);
  assert.deepEqual(a.told, []);
  assert.equal(clock.pendingTimers, 1, "re-armed for the new earliest");
  heap.remove(a);
  assert.equal(a.heapIndex, -1);
  assert.equal(clock.pendingTimers, 0, "the last entry removed: the timer is cleared");
  clock.advance(1_000);
  assert.deepEqual(a.told, []);
  heap.remove(a); // not in the heap: ignored
});

test("an entry rescheduling itself for now is told again at the next firing, not in a loop", () => {
  const clock = new FakeClock();
  const heap = new DeadlineHeap(clock);
  const log: string[] = [];
  const again = new Entry("again", log);
  const other = new Entry("other", log);
  let times = 0;
  again.onDue = (now) => {
    if (++times < 3) heap.schedule(again, now); // due at once, again
  };
  // An entry told may also take another out before its turn.
  other.onDue = () => heap.remove(again);
  const start = clock.now();
  heap.schedule(again, start + 5);
  clock.advance(5);
  assert.deepEqual(again.told, [start + 5]);
  clock.advance(1);
  assert.deepEqual(again.told, [start + 5, start + 6]);
  clock.advance(1);
  assert.equal(again.told.length, 3);
  assert.equal(clock.pendingTimers, 0);

  heap.schedule(other, start + 100);
  heap.schedule(again, start + 100);
  clock.advance(200);
  assert.deepEqual(log.slice(-1), ["other"], "removed by the entry told before it");
});

test("the heap keeps its order through many random moves and removals", () => {
  const clock = new FakeClock();
  const heap = new DeadlineHeap(clock);
  const log: string[] = [];
  const entries = Array.from({ length: 200 }, (_, i) => new Entry(`e${i}`, log));
  let seed = 7;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const start = clock.now();
  const expected = new Map<Entry, number>();
  for (let step = 0; step < 2_000; step++) {
    const entry = entries[Math.floor(random() * entries.length)]!;
    if (random() < 0.2) {
      heap.remove(entry);
      expected.delete(entry);
    } else {
      const due = start + 1 + Math.floor(random() * 10_000);
      heap.schedule(entry, due);
      expected.set(entry, due);
    }
  }
  assert.equal(heap.size, expected.size);
  clock.advance(20_000);
  for (const entry of entries) {
    const due = expected.get(entry);
    assert.deepEqual(entry.told, due === undefined ? [] : [due], entry.name);
  }
});

test("every connection of a server on one clock shares the clock's one timer", async () => {
  const clock = new FakeClock();
  const server = new TransportServer({
    rpcHandler: { receive: (_client, body) => body },
    clock,
    firstFrameTimeoutMs: 1_000,
    idleTimeoutMs: 5_000,
  });
  const peers = Array.from({ length: 20 }, () => {
    const [a, b] = memorySocketPair();
    server.accept(b);
    return a;
  });
  assert.equal(server.connections.size, 20);
  assert.equal(deadlineHeapOf(clock).size, 20);
  assert.equal(clock.pendingTimers, 1, "20 connections, one timer");
  // None speaks: all are closed by the first-frame deadline, at 1 000 ms.
  clock.advance(999);
  await settle();
  assert.equal(server.connections.size, 20);
  clock.advance(1);
  await settle();
  assert.equal(server.connections.size, 0);
  assert.equal(clock.pendingTimers, 0, "no connection left: no timer");
  for (const peer of peers) peer.close();
  await server.close();
});
