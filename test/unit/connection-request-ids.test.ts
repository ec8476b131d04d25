/**
 * `RequestIds`: small sequential integers from a random start below 2^30, drawn on first use.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RequestIds } from "../../src/connection/request-ids.ts";

test("ids start at a random point below 2^30 and then count up by one", () => {
  const starts = new Set<number>();
  for (let i = 0; i < 8; i++) {
    const ids = new RequestIds();
    const first = ids.next();
    assert.ok(Number.isInteger(first) && first >= 0 && first < 2 ** 30, String(first));
    starts.add(first);
    let previous = first;
    for (let n = 0; n < 100; n++) {
      const id = ids.next();
      assert.equal(id, previous >= 0x3fff_ffff ? 0 : previous + 1);
      previous = id;
    }
  }
  // 8 draws of 30 random bits: equal starts would be a broken generator, not bad luck.
  assert.ok(starts.size >= 7, `starts: ${[...starts].join(", ")}`);
});
