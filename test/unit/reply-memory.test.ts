/**
 * Reply memory accounting without a connection: the per-connection ReplyGate (window, estimate,
 * withdraw, close) and the server-wide ReplyMemory (charge before start, round-robin turns across
 * connections, no budget left behind). A model-based property test drives random admits, reads
 * settling, cancels and closes over three connections and checks the bounds at every step.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type GatedReply, ReplyGate } from "../../src/responder/reply-gate.ts";
import { ReplyMemory } from "../../src/responder/reply-memory.ts";
import { FUZZ_SEED } from "./protocol/message-arbitraries.ts";

const MiB = 1024 * 1024;

/** A record that logs its start and drop; `started` lists starts in order (by name). */
class Record implements GatedReply {
  charged = 0;
  waiting = false;
  starts = 0;
  drops = 0;
  readonly name: string;
  readonly #log: string[];

  constructor(name: string, log: string[]) {
    this.name = name;
    this.#log = log;
  }

  start(): void {
    this.starts++;
    this.#log.push(this.name);
  }

  drop(): void {
    this.drops++;
  }
}

test("a reply is charged before it starts and within the connection's window", () => {
  const memory = new ReplyMemory(64 * MiB);
  const gate = new ReplyGate(memory, 4 * MiB);
  const log: string[] = [];
  const records = Array.from({ length: 10 }, (_, i) => new Record(`r${i}`, log));
  for (const record of records) gate.admit(record);
  // The estimate is 1 MiB: four start, six wait with nothing charged.
  assert.deepEqual(log, ["r0", "r1", "r2", "r3"]);
  assert.equal(gate.charged, 4 * MiB);
  assert.equal(memory.charged, 4 * MiB);
  assert.equal(gate.waiting, 6);
  assert.ok(records.slice(4).every((r) => r.waiting && r.charged === 0));
  // Smaller bytes than charged: the charge shrinks (the estimate does not) and one more starts.
  gate.resize(records[0]!, MiB / 2);
  assert.equal(gate.charged, 3.5 * MiB);
  assert.deepEqual(log, ["r0", "r1", "r2", "r3"], "3.5 + 1 MiB would exceed the window");
  gate.release(records[0]!);
  gate.release(records[0]!); // idempotent
  assert.deepEqual(log, ["r0", "r1", "r2", "r3", "r4"]);
  assert.equal(gate.charged, 4 * MiB);
  // A cancelled record never starts; withdrawing a started one does nothing.
  assert.equal(gate.withdraw(records[5]!), true);
  assert.equal(gate.withdraw(records[1]!), false);
  gate.release(records[1]!);
  assert.deepEqual(log.slice(5), ["r6"]);
  // Larger bytes than charged: the estimate grows to them (never shrinks), so fewer start.
  gate.resize(records[2]!, 2 * MiB);
  assert.equal(gate.estimate, 2 * MiB);
  assert.equal(gate.charged, 5 * MiB, "over the window by what was granted at the old estimate");
  for (const record of records.slice(0, 7)) gate.release(record);
  assert.equal(gate.charged, 4 * MiB, "r7 and r8 started at the new estimate of 2 MiB");
  assert.deepEqual(log.slice(6), ["r7", "r8"]);
  gate.close();
  assert.equal(records[9]!.drops, 1, "closing drops the waiting record");
  assert.equal(records[9]!.starts, 0);
  for (const record of records) gate.release(record);
  assert.equal(gate.charged, 0);
  assert.equal(memory.charged, 0);
  assert.equal(memory.waiting, 0);
  // A closed gate drops what it is given; a reply larger than the window goes alone.
  const late = new Record("late", log);
  gate.admit(late);
  assert.equal(late.drops, 1);
  const big = new ReplyGate(memory, 1024);
  const alone = new Record("alone", log);
  big.admit(alone);
  assert.equal(alone.starts, 1, "nothing charged on the connection: one reply always starts");
  big.release(alone);
  assert.throws(() => new ReplyGate(memory, 0), /Invalid replyWindowBytes/);
  assert.throws(() => new ReplyMemory(-1), /Invalid maxReplyBytes/);
});

test("a full server budget serves waiting connections one reply per turn, round-robin", () => {
  const memory = new ReplyMemory(3 * MiB);
  const log: string[] = [];
  const gates = ["a", "b", "c"].map((name) => ({ name, gate: new ReplyGate(memory, 64 * MiB) }));
  const started: Record[] = [];
  for (const { name, gate } of gates) {
    for (let i = 0; i < 6; i++) {
      const record = new Record(name, log);
      const start = record.start.bind(record);
      record.start = () => {
        start();
        started.push(record);
      };
      gate.admit(record);
    }
  }
  // a got there first and took what a connection already holding memory may (the budget less its
  // reserve of a quarter); b, holding none, took the reserve; a (for its third), c and b (for its
  // second) wait in line.
  assert.deepEqual(log, ["a", "a", "b"]);
  assert.equal(memory.waiting, 3);
  // Each release (oldest first, as sockets drain) grants the next connection in turn.
  const gateOf = (name: string) => gates.find((g) => g.name === name)!.gate;
  for (let i = 0; started.length > i; i++) {
    const record = started[i]!;
    gateOf(record.name).release(record);
  }
  assert.deepEqual(log.slice(3, 12), ["c", "a", "b", "c", "a", "b", "c", "a", "b"]);
  assert.equal(log.length, 18, "every record ran");
  assert.equal(memory.charged, 0);
  assert.equal(memory.waiting, 0);
});

test("a connection that closes while in line leaves it; the next one gets the turn", () => {
  const memory = new ReplyMemory(1 * MiB);
  const log: string[] = [];
  const a = new ReplyGate(memory, 8 * MiB);
  const b = new ReplyGate(memory, 8 * MiB);
  const c = new ReplyGate(memory, 8 * MiB);
  const first = new Record("a", log);
  a.admit(first);
  const waitingB = new Record("b", log);
  b.admit(waitingB);
  c.admit(new Record("c", log));
  assert.equal(memory.waiting, 2);
  b.close();
  assert.equal(waitingB.drops, 1);
  assert.equal(memory.waiting, 1);
  a.release(first);
  assert.deepEqual(log, ["a", "c"]);
});

type Op =
  | { readonly kind: "admit"; readonly conn: number }
  | { readonly kind: "settle"; readonly pick: number; readonly bytes: number; readonly ok: boolean }
  | { readonly kind: "write"; readonly pick: number }
  | { readonly kind: "cancel"; readonly pick: number }
  | { readonly kind: "close"; readonly conn: number };

test("no budget is held once every reply ended, whatever the order of events", () => {
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant("admit" as const), conn: fc.nat(2) }),
    fc.record({
      kind: fc.constant("settle" as const),
      pick: fc.nat(),
      bytes: fc.integer({ min: 1, max: 3 * MiB }),
      ok: fc.boolean(),
    }),
    fc.record({ kind: fc.constant("write" as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant("cancel" as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant("close" as const), conn: fc.nat(2) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
      const limit = 6 * MiB;
      const window = 3 * MiB;
      const memory = new ReplyMemory(limit);
      const gates = [0, 1, 2].map(() => new ReplyGate(memory, window));
      const log: string[] = [];
      /** Records by state: waiting (in a gate), reading (started), queued (bytes for the socket). */
      const all: { record: Record; conn: number; state: string }[] = [];
      let biggest = MiB;
      const check = () => {
        let sum = 0;
        for (const [conn, gate] of gates.entries()) {
          const charged = all.filter((r) => r.conn === conn).reduce(
            (n, r) => n + r.record.charged,
            0,
          );
          assert.equal(gate.charged, charged);
          sum += charged;
          // A window is exceeded only by what replies grew beyond their estimate.
          assert.ok(gate.charged <= Math.max(window, biggest) * 3);
        }
        assert.equal(memory.charged, sum);
        assert.equal(memory.waitingReplies, all.filter((r) => r.record.waiting).length);
        for (const { record } of all) {
          assert.ok(record.starts + record.drops <= 1, "a record starts or drops at most once");
        }
      };
      const pick = (state: string, n: number) => {
        const candidates = all.filter((r) => r.state === state);
        return candidates.length === 0 ? undefined : candidates[n % candidates.length];
      };
      for (const o of ops) {
        if (o.kind === "admit") {
          const record = new Record(String(o.conn), log);
          const entry = { record, conn: o.conn, state: "waiting" };
          const start = record.start.bind(record);
          record.start = () => {
            start();
            entry.state = "reading";
          };
          record.drop = () => {
            record.drops++;
            entry.state = "done";
          };
          all.push(entry);
          gates[o.conn]!.admit(record);
        } else if (o.kind === "settle") {
          const entry = pick("reading", o.pick);
          if (entry === undefined) continue;
          const gate = gates[entry.conn]!;
          if (o.ok) {
            biggest = Math.max(biggest, o.bytes);
            gate.resize(entry.record, o.bytes);
            entry.state = "queued";
          } else {
            entry.state = "done";
            gate.release(entry.record);
          }
        } else if (o.kind === "write") {
          const entry = pick("queued", o.pick);
          if (entry === undefined) continue;
          entry.state = "done";
          gates[entry.conn]!.release(entry.record);
        } else if (o.kind === "cancel") {
          const entry = pick("waiting", o.pick);
          if (entry === undefined) continue;
          assert.equal(gates[entry.conn]!.withdraw(entry.record), true);
          entry.state = "done";
        } else {
          gates[o.conn]!.close();
        }
        check();
      }
      // Everything still reading settles and everything queued is written (or dropped by close).
      for (let guard = 0; guard < 1000; guard++) {
        const entry = all.find((r) => r.state === "reading" || r.state === "queued");
        if (entry === undefined) break;
        entry.state = "done";
        gates[entry.conn]!.release(entry.record);
        check();
      }
      for (const gate of gates) gate.close();
      check();
      assert.equal(memory.charged, 0);
      assert.equal(memory.waiting, 0);
      for (const { record, state } of all) {
        assert.equal(state, "done");
        assert.equal(record.charged, 0);
      }
    }),
    { seed: FUZZ_SEED, numRuns: 300 },
  );
});
