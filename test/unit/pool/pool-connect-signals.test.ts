/**
 * Each connect the pool starts gets its own abort signal (a child of the pool's): closing the pool
 * aborts the ones still in progress, a finished connect's signal is dropped and never aborted, and
 * a caller's signal on an unmanaged client aborts that connect alone. Nothing hangs listeners on
 * one shared signal (see test/node/pool-connect-signal.test.ts for the Node warning it avoids).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PoolClosedError } from "../../../src/pool/pool-errors.ts";
import { harness } from "./pool-harness.ts";

test("every connect has its own signal; close aborts those in progress, not finished ones", async () => {
  const { pool, connector } = harness({ auto: false, maxPerRoute: 3, maxStreamsPerConnection: 1 });
  const outcomes = [1, 2, 3].map(() => pool.lease("r").then(() => "leased", (error) => error));
  await Promise.resolve();
  assert.equal(connector.calls.length, 3);
  const signals = connector.calls.map((call) => call.options.signal!);
  assert.equal(new Set(signals).size, 3, "three distinct signals");
  connector.completeNext();
  assert.equal(await outcomes[0], "leased");
  assert.ok(signals.every((signal) => !signal.aborted));
  await pool.close();
  assert.equal(signals[0]!.aborted, false, "the finished connect's signal was dropped");
  for (const signal of signals.slice(1)) {
    assert.ok(signal.aborted && signal.reason instanceof PoolClosedError, String(signal.reason));
  }
  for (const outcome of (await Promise.all(outcomes)).slice(1)) {
    assert.ok(outcome instanceof PoolClosedError, String(outcome));
  }
});

test("an unmanaged client's own signal aborts its connect alone", async () => {
  const { pool, connector } = harness({ auto: false });
  const caller = new AbortController();
  const mine = pool.unmanagedClient("r", { signal: caller.signal }).catch((error) => error);
  const other = pool.unmanagedClient("r").catch((error) => error);
  await Promise.resolve();
  assert.equal(connector.calls.length, 2);
  const reason = new Error("the caller gave up");
  caller.abort(reason);
  assert.equal(await mine, reason);
  assert.equal(connector.calls[1]!.options.signal!.aborted, false);
  connector.failNext(new Error("unused")); // the aborted connect: already rejected
  connector.completeNext();
  const client = await other;
  assert.equal(typeof client.close, "function");
  await client.close();
  await pool.close();
});
