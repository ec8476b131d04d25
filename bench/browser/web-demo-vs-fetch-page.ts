/// <reference lib="dom" />
/**
 * The page side of `bench/cases/web-demo-vs-fetch.ts`, run in a directly launched Chromium
 * (`bench/harness/chromium-direct.ts`), linked against the shipped `ferry.js`. The harness reloads
 * the page before every call, so each download starts in a fresh page.
 *
 * - `demoDownload(gatewayUrl, name, connections, inFlight)`: the web demo's own download path,
 *   its modules unchanged: `GatewayFiles` (the pool of gateway sessions), the file list the page
 *   loads first (untimed, as in the demo, where it is on screen before the click), then, timed from
 *   the "click": `openDownloadSink` (OPFS in Chromium when no file is picked) and
 *   `downloadThroughGateway` (`downloadFile` over `connections` sessions, each chunk verified with
 *   WebCrypto as it arrives — in the OPFS sink's writer worker, as in the demo — written to the
 *   sink, the file closed). The observer that draws the
 *   demo's panel is left out (a no-op here). With `sinkKind` "memory" the chunks go to the demo's
 *   in-memory fallback instead (what OPFS costs); with "discard" they are verified (on the page's
 *   thread, as with the memory sink) and dropped (probes: the transport without a sink).
 * - `fetchFile(url, size, sha256)`: Chromium's own `fetch()` of the same file from nginx; with
 *   `sha256` the body is read whole (`arrayBuffer()`) and hashed with one WebCrypto digest at the
 *   end, as a page that verifies what it downloaded must; without it the body is read to its end
 *   and only counted.
 *
 * @module
 */

import { downloadThroughGateway } from "../../web-demo/src/gateway-download.ts";
import { GatewayFiles } from "../../web-demo/src/gateway-files.ts";
import { type DownloadSink, openDownloadSink } from "../../web-demo/src/download-sink.ts";
import { memorySink } from "../../web-demo/src/memory-sink.ts";

export interface DownloadFigures {
  readonly seconds: number;
  readonly mibPerSecond: number;
  readonly bytes: number;
}

function figures(bytes: number, started: number): DownloadFigures {
  const seconds = (performance.now() - started) / 1000;
  return { seconds, mibPerSecond: bytes / (1024 * 1024) / seconds, bytes };
}

const ignore = () => {};

export async function demoDownload(
  gatewayUrl: string,
  name: string,
  connections: number,
  inFlight: number,
  sinkKind: "demo" | "memory" | "discard" = "demo",
): Promise<DownloadFigures & Record<string, number>> {
  const files = new GatewayFiles({
    target: "files",
    gatewayUrl,
    token: undefined,
    connections,
    inFlight,
    problems: [],
  });
  try {
    const file = (await files.list()).find((entry) => entry.name === name);
    if (file === undefined) throw new Error(`${name} is not offered by ${gatewayUrl}`);
    const started = performance.now();
    const opened = sinkKind === "demo"
      ? await openDownloadSink(file.name, file.size, false)
      : sinkKind === "discard"
      // Verified chunks dropped (probes: what the transport costs without any sink).
      ? discardSink()
      // The demo's in-memory fallback, chosen here on purpose: what OPFS costs.
      : memorySink(file.size, "held in memory");
    if (opened === undefined) throw new Error("no download sink");
    // The sink's busy time: writes are one at a time, so a writer busy for nearly the whole
    // download is the bottleneck.
    let writeMs = 0;
    let finishMs = 0;
    const sink: DownloadSink = {
      ...opened, // `hash` included: the OPFS sink hashes in its writer worker, as in the demo
      write: async (chunk, offset) => {
        const writeStarted = performance.now();
        await opened.write(chunk, offset);
        writeMs += performance.now() - writeStarted;
      },
      finish: async () => {
        const finishStarted = performance.now();
        const blob = await opened.finish();
        finishMs = performance.now() - finishStarted;
        return blob;
      },
    };
    const completed = await downloadThroughGateway({
      files,
      name,
      connections,
      inFlight,
      sink,
      signal: new AbortController().signal,
      observer: {
        opened: ignore,
        requested: ignore,
        fetched: ignore,
        failed: ignore,
        abandoned: ignore,
        progress: ignore,
        verifying: ignore,
      },
    });
    const done = figures(completed.file.size, started);
    if (completed.file.size !== file.size) {
      throw new Error(`downloaded ${completed.file.size} bytes of ${file.size}`);
    }
    // What the sink holds is the file (chunks at the right offsets): checked after the clock
    // stopped, for the small files (warm-up, --quick) only, to keep the rounds short.
    if (completed.blob !== undefined && file.size <= 32 * 1024 * 1024) {
      const kept = hex(await crypto.subtle.digest("SHA-256", await completed.blob.arrayBuffer()));
      if (kept !== completed.digest.hex) {
        throw new Error(
          `the ${sink.kind} sink holds SHA-256 ${kept}, the file is ${completed.digest.hex}`,
        );
      }
    }
    // 1 when the chunks went to OPFS (the demo's choice in Chromium when no file is picked).
    return {
      ...done,
      opfs: sink.kind === "OPFS" ? 1 : 0,
      // 1 when the chunks were hashed in the sink's writer worker, not on the page's thread.
      hashedInWorker: sink.hash !== undefined ? 1 : 0,
      sinkWriteSeconds: writeMs / 1000,
      sinkFinishSeconds: finishMs / 1000,
      // Summed over chunks; the digests overlap each other and the transfer.
      chunkHashSeconds: completed.digest.elapsedMs / 1000,
    };
  } finally {
    await files.close();
  }
}

/** A sink that keeps nothing (`finish` offers no file). */
function discardSink(): DownloadSink {
  return {
    kind: "memory",
    description: "discarded",
    write: ignore,
    finish: () => Promise.resolve(undefined),
    abort: () => Promise.resolve(),
  };
}

function hex(digest: ArrayBuffer): string {
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export async function fetchFile(
  url: string,
  size: number,
  sha256: string | undefined,
): Promise<DownloadFigures> {
  const started = performance.now();
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  let bytes = 0;
  if (sha256 !== undefined) {
    const body = await response.arrayBuffer();
    bytes = body.byteLength;
    const digest = hex(await crypto.subtle.digest("SHA-256", body));
    if (digest !== sha256) throw new Error(`SHA-256 of ${url} is ${digest}, expected ${sha256}`);
  } else {
    const reader = response.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
    }
  }
  if (bytes !== size) throw new Error(`GET ${url}: ${bytes} bytes, expected ${size}`);
  return figures(bytes, started);
}
