/**
 * The web demo's in-memory fallback sink (`web-demo/src/memory-sink.ts`), without a browser: chunks
 * written in any order come out as one Blob in file order; a chunk that is a view into a larger
 * buffer is copied (later changes to that buffer do not leak in); chunks that do not cover the file
 * exactly make `finish` fail instead of handing out a file with a hole.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { memorySink } from "../../web-demo/src/memory-sink.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

test("chunks written out of order come out as one Blob in file order", async () => {
  const sink = memorySink(7, "held in memory");
  assert.equal(sink.kind, "memory");
  await sink.write(bytes(4, 5, 6), 4);
  await sink.write(bytes(0, 1), 0);
  const larger = bytes(9, 2, 3, 9);
  await sink.write(larger.subarray(1, 3), 2);
  larger.fill(7); // the sink copied the view: this must not show
  const blob = await sink.finish();
  assert.deepEqual(new Uint8Array(await blob!.arrayBuffer()), bytes(0, 1, 2, 3, 4, 5, 6));
});

test("a file with a hole, or with bytes past its end, is refused at finish", async () => {
  const hole = memorySink(6, "held in memory");
  await hole.write(bytes(0, 1), 0);
  await hole.write(bytes(4, 5), 4);
  await assert.rejects(hole.finish(), /cover bytes 0 to 2 contiguously, of 6/);
  const long = memorySink(2, "held in memory");
  await long.write(bytes(0, 1, 2), 0);
  await assert.rejects(long.finish(), /0 to 3 contiguously, of 2/);
  const empty = memorySink(0, "held in memory");
  assert.equal((await empty.finish())!.size, 0);
});
