/**
 * How the page consumes Ferry's observability events (the example docs/observability.md points
 * to): it installs a runtime-neutral {@linkcode FerryEventListeners} sink — a browser has no
 * `diagnostics_channel` — and subscribes to `ferry:client:request` / `ferry:client:response`.
 * Each event carries the connection it went over (`connection`, the object
 * `connectionEventOf(client)` returns for the page's leased clients), so chunk fetches are put on
 * their session's row; the response is the same object as the request, completed with
 * `firstByteTime` and `durationMs` (a chunk's reply is one frame: its last byte is at
 * `startTime + durationMs`).
 *
 * It subscribes once, when the page starts: Ferry taps only connections opened while something
 * listens, and the page's pool opens its sessions later.
 *
 * @module
 */

import {
  type ConnectionEvent,
  FerryEventListeners,
  installFerryEventSink,
  type RequestEvent,
} from "../../src/observability/mod.ts";

/** Told about the chunk fetches of the connections it watches. */
export interface ChunkEventTarget {
  requested(index: number, row: number, time: number): void;
  replied(index: number, firstByte: number | undefined, lastByte: number, failure?: string): void;
}

export class ChunkFetchEvents {
  /** The watched connections' rows. */
  #rows = new Map<ConnectionEvent, number>();
  #target: ChunkEventTarget | undefined;

  /** Installs the page's event sink and subscribes (once, before any connection opens). */
  constructor() {
    const events = new FerryEventListeners();
    installFerryEventSink(events);
    events.subscribe("ferry:client:request", (request) => this.#request(request));
    events.subscribe("ferry:client:response", (request) => this.#response(request));
  }

  /** From now on, chunk fetches over `connections[i]` go to `target` as row `i`. */
  watch(connections: readonly (ConnectionEvent | undefined)[], target: ChunkEventTarget): void {
    this.#rows = new Map();
    connections.forEach((connection, row) => {
      if (connection !== undefined) this.#rows.set(connection, row);
    });
    this.#target = target;
  }

  /** Stops forwarding (the download ended). */
  unwatch(): void {
    this.#rows = new Map();
    this.#target = undefined;
  }

  #row(request: RequestEvent): number | undefined {
    if (request.type !== "ChunkFetchRequest" || request.chunkIndex === undefined) return undefined;
    return request.connection === undefined ? undefined : this.#rows.get(request.connection);
  }

  #request(request: RequestEvent): void {
    const row = this.#row(request);
    if (row !== undefined) this.#target?.requested(request.chunkIndex!, row, request.startTime);
  }

  #response(request: RequestEvent): void {
    if (this.#row(request) === undefined || request.durationMs === undefined) return;
    this.#target?.replied(
      request.chunkIndex!,
      request.firstByteTime,
      request.startTime + request.durationMs,
      request.errorType,
    );
  }
}
