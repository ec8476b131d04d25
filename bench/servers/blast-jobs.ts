/**
 * How every raw blast server (Node TCP, `ws`, Deno) serves one connection: its requests run in
 * order, one at a time, each sending `count` copies of one preallocated buffer of its `size`. The
 * sending itself (and its backpressure) is the transport's; no runtime code here.
 *
 * @module
 */

/** One request: `count` buffers of `size` bytes. */
export interface BlastJob {
  readonly count: number;
  readonly size: number;
}

/** One buffer per requested size, made by `allocate` on first use and filled with 0x5a. */
export function blastBufferCache<B extends Uint8Array>(
  allocate: (size: number) => B,
): (size: number) => B {
  const buffers = new Map<number, B>();
  return (size) => {
    let buffer = buffers.get(size);
    if (buffer === undefined) {
      buffer = allocate(size);
      buffer.fill(0x5a);
      buffers.set(size, buffer);
    }
    return buffer;
  };
}

/**
 * A connection's requests, served in order: `send(job, done)` starts one job and calls `done` once
 * its last buffer is handed over; the next job starts then. A job whose `done` never comes (the
 * connection closed) holds the queue, which is what a closed connection wants.
 */
export class BlastJobQueue {
  readonly #send: (job: BlastJob, done: () => void) => void;
  readonly #queue: BlastJob[] = [];
  #busy = false;

  constructor(send: (job: BlastJob, done: () => void) => void) {
    this.#send = send;
  }

  /** Queues `job`; starts it at once when nothing else is being sent. */
  push(job: BlastJob): void {
    this.#queue.push(job);
    if (!this.#busy) this.#next();
  }

  #next = (): void => {
    const job = this.#queue.shift();
    if (job === undefined) {
      this.#busy = false;
      return;
    }
    this.#busy = true;
    this.#send(job, this.#next);
  };
}
