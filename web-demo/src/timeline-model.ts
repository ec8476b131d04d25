/**
 * What the download timeline shows, without drawing it: per connection (a row), each chunk's
 * request, the first and last byte of its reply and its verification, in `performance.now()`
 * milliseconds. The times come from Ferry's observability events (`ferry:client:request` /
 * `ferry:client:response`, see `timeline-events.ts`) and from the page's own digest check.
 *
 * Chunks that are in flight at once on one connection would overlap on its row, so each row has
 * lanes: a chunk takes the lowest lane whose previous chunk is finished (verified or failed) when
 * it is requested. A chunk fetched again (a failure retried, a damaged chunk refetched) keeps its
 * last attempt; the earlier ones count in `attempts`.
 *
 * @module
 */

/** One chunk's last attempt. Times are `performance.now()` milliseconds; undefined: not yet. */
export interface ChunkTimes {
  readonly index: number;
  /** The row (connection) the request went over. */
  readonly row: number;
  /** The lane within the row. */
  readonly lane: number;
  readonly requested: number;
  firstByte?: number;
  lastByte?: number;
  verifyStart?: number;
  verifyEnd?: number;
  /** The reply's failure (`ChunkFetchFailure`, `ERR_CONNECTION_CLOSED`, ...). */
  failure?: string;
  attempts: number;
}

interface Row {
  /** Per lane, the chunk occupying it last. */
  readonly lanes: ChunkTimes[];
}

export class TimelineModel {
  /** Where the time axis starts. */
  origin = 0;
  #rows: Row[] = [];
  readonly #chunks = new Map<number, ChunkTimes>();
  /** Chunks changed since `takeChanged()`. */
  #changed = new Set<ChunkTimes>();
  /** The latest time any chunk reached. */
  #latest = 0;

  /** A download starts at `origin` over `rows` connections. */
  reset(rows: number, origin: number): void {
    this.origin = origin;
    this.#latest = origin;
    this.#rows = Array.from({ length: rows }, () => ({ lanes: [] }));
    this.#chunks.clear();
    this.#changed.clear();
  }

  get rowCount(): number {
    return this.#rows.length;
  }

  /** Lanes of each row (at least one). */
  lanesOf(row: number): number {
    return Math.max(this.#rows[row]?.lanes.length ?? 0, 1);
  }

  get chunks(): ReadonlyMap<number, ChunkTimes> {
    return this.#chunks;
  }

  /** The end of the time axis so far. */
  get latest(): number {
    return this.#latest;
  }

  requested(index: number, row: number, time: number): void {
    const rowState = this.#rows[row];
    if (rowState === undefined) return;
    const previous = this.#chunks.get(index);
    let lane = rowState.lanes.findIndex((chunk) => finished(chunk));
    if (lane < 0) lane = rowState.lanes.length;
    const chunk: ChunkTimes = {
      index,
      row,
      lane,
      requested: time,
      attempts: (previous?.attempts ?? 0) + 1,
    };
    rowState.lanes[lane] = chunk;
    this.#chunks.set(index, chunk);
    this.#touch(chunk, time);
  }

  replied(index: number, firstByte: number | undefined, lastByte: number, failure?: string): void {
    const chunk = this.#chunks.get(index);
    if (chunk === undefined) return;
    if (failure !== undefined) chunk.failure = failure;
    else {
      chunk.firstByte = Math.max(firstByte ?? lastByte, chunk.requested);
      chunk.lastByte = lastByte;
    }
    this.#touch(chunk, lastByte);
  }

  verified(index: number, start: number, end: number): void {
    const chunk = this.#chunks.get(index);
    if (chunk === undefined || chunk.lastByte === undefined) return;
    chunk.verifyStart = Math.max(start, chunk.lastByte);
    chunk.verifyEnd = Math.max(end, chunk.verifyStart);
    this.#touch(chunk, end);
  }

  /** The chunks changed since the last call (what a frame has to redraw). */
  takeChanged(): Set<ChunkTimes> {
    const changed = this.#changed;
    this.#changed = new Set();
    return changed;
  }

  #touch(chunk: ChunkTimes, time: number): void {
    if (time > this.#latest) this.#latest = time;
    this.#changed.add(chunk);
  }
}

function finished(chunk: ChunkTimes): boolean {
  return chunk.verifyEnd !== undefined || chunk.failure !== undefined;
}
