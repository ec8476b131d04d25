/**
 * The page side of the Chromium chunk-fetch case (`bench/cases/chromium-ws-chunk-fetch.ts`), run
 * by `bench/harness/chromium-direct.ts` in a directly launched Chromium and linked against the
 * shipped `ferry.js`. Connections are opened once and kept between calls (the module stays
 * loaded); every call returns the run's figures as JSON.
 *
 * - `openFerry(url)` / `fetchFerry(count)`: `TransportClient.fetchChunk` over `webSocketConnect`
 *   with Chromium's own WebSocket, 1 MiB chunks, 16 in flight (`chunk-fetch-work.ts`).
 * - `openRaw(url)` / `blastRaw(count)`: Chromium's WebSocket (`binaryType = "arraybuffer"`) asks
 *   the raw `ws` blast for `count` 1 MiB binary messages and counts their bytes.
 * - `closeFerry()` / `closeRaw()`: closes one (the case opens both afresh every round, against a
 *   fresh server process); `closeAll()`: closes both.
 *
 * @module
 */

import { webSocketConnect } from "../../adapters/websocket/connect.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { chunkBytes, fetchChunks, throughput } from "../cases/chunk-fetch-work.ts";
import { BlastTransfer } from "../baselines/blast-transfer.ts";

let ferry: TransportClient | undefined;
let raw: RawBlast | undefined;

/** Opens (once) the Ferry client to the WebSocket listener at `url`. */
export async function openFerry(url: string): Promise<boolean> {
  ferry ??= await TransportClient.connect(webSocketConnect({ url }), { timeoutMs: 10_000 });
  return true;
}

/** Fetches `count` chunks over the open Ferry client. */
export function fetchFerry(count: number): Promise<{ mibPerSecond: number; seconds: number }> {
  if (ferry === undefined) throw new Error("fetchFerry before openFerry");
  return fetchChunks(ferry, count);
}

/** Opens (once) the raw WebSocket to the blast server at `url`. */
export async function openRaw(url: string): Promise<boolean> {
  raw ??= await RawBlast.open(url);
  return true;
}

/** Receives `count` 1 MiB messages from the raw blast. */
export function blastRaw(count: number): Promise<{ mibPerSecond: number; seconds: number }> {
  if (raw === undefined) throw new Error("blastRaw before openRaw");
  return raw.receive(count);
}

/** Closes the Ferry client, if open. */
export async function closeFerry(): Promise<boolean> {
  const closing = ferry?.close();
  ferry = undefined;
  await closing;
  return true;
}

/** Closes the raw WebSocket, if open. */
export async function closeRaw(): Promise<boolean> {
  const closing = raw?.close();
  raw = undefined;
  await closing;
  return true;
}

/** Closes whatever is open. */
export async function closeAll(): Promise<boolean> {
  const closing = [ferry?.close(), raw?.close()];
  ferry = undefined;
  raw = undefined;
  await Promise.all(closing);
  return true;
}

class RawBlast {
  readonly #transfer = new BlastTransfer("raw ws");

  private constructor(readonly ws: WebSocket) {
    ws.onmessage = (event: MessageEvent) =>
      this.#transfer.received((event.data as ArrayBuffer).byteLength);
    ws.onclose = (event) =>
      this.#transfer.fail(new Error(`raw ws: closed mid-transfer (${event.code})`));
  }

  static open(url: string): Promise<RawBlast> {
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    return new Promise((resolve, reject) => {
      ws.onopen = () => resolve(new RawBlast(ws));
      ws.onerror = () => reject(new Error(`raw ws: cannot connect to ${url}`));
    });
  }

  async receive(count: number): Promise<{ mibPerSecond: number; seconds: number }> {
    const startedAt = performance.now();
    const received = await this.#transfer.start(
      count,
      chunkBytes,
      (request) => this.ws.send(request),
    );
    return throughput(received, count * chunkBytes, startedAt);
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.onclose = () => resolve();
      this.ws.close(1000);
    });
  }
}
