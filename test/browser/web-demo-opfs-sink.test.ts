/**
 * The web demo's OPFS writer worker sink (`web-demo/src/opfs-worker-sink.ts`), in Debian's
 * Chromium (page: `pages/opfs-sink-page.ts`), and its buffer rule (`ownBuffer`) without a browser:
 *
 * - a chunk spanning its whole buffer moves to the worker (its view is detached, no copy), a view
 *   into a larger buffer is copied and left intact — whether hashed in the worker or written;
 * - the worker's digests are WebCrypto's; a chunk hashed again for the same index replaces what
 *   the worker held for it (a damaged chunk, refetched), and the written file holds the good one;
 * - the file holds every chunk at its offset.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ownBuffer } from "../../web-demo/src/opfs-worker-sink.ts";
import { type OpenBrowserFixture, openBrowserFixture } from "../helpers/browser-fixture.ts";
import type { OpfsSinkReport } from "./pages/opfs-sink-page.ts";

const GUARD = { timeout: 120_000 };

describe("ownBuffer", () => {
  it("returns a chunk's own buffer as it is, and copies a view into a larger one", () => {
    const own = new Uint8Array([1, 2, 3]);
    assert.equal(ownBuffer(own), own.buffer);
    const larger = new Uint8Array([9, 1, 2, 3, 9]);
    const view = larger.subarray(1, 4);
    const copied = ownBuffer(view);
    assert.notEqual(copied, larger.buffer);
    assert.deepEqual(new Uint8Array(copied), own);
    const head = larger.subarray(0, 3);
    assert.notEqual(ownBuffer(head), larger.buffer, "a view at offset 0 of a longer buffer");
    const Resizable = ArrayBuffer as unknown as new (
      length: number,
      options: { maxByteLength: number },
    ) => ArrayBuffer;
    const resizable = new Resizable(3, { maxByteLength: 8 });
    assert.notEqual(ownBuffer(new Uint8Array(resizable)), resizable);
  });
});

describe("the web demo's OPFS writer worker in Chromium", () => {
  let fixture: OpenBrowserFixture | undefined;
  before(async () => {
    fixture = await openBrowserFixture({ modules: ["test/browser/pages/opfs-sink-page.ts"] });
  });
  after(async () => {
    await fixture?.close();
  });

  it(
    "hashes chunks where it writes them, moving own buffers and copying views",
    GUARD,
    async () => {
      const report = await fixture!.call<OpfsSinkReport>("opfs-sink-page.js", "checkOpfsSink");
      assert.equal(report.canHash, true, fixture!.log.join("\n"));
      assert.deepEqual(report.digestsMatch, {
        own: true,
        view: true,
        damaged: false,
        refetched: true,
      });
      assert.deepEqual(report.lengthsAfter, { ownHashed: 0, viewHashed: 1000, plainWritten: 0 });
      assert.equal(report.fileSize, 4000);
      assert.equal(report.fileMatches, true);
    },
  );
});
