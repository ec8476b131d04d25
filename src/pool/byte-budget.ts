/**
 * A budget of bytes in flight to one peer — what Spark keeps as `maxBytesInFlight` in its shuffle
 * fetcher, so that many callers fetching large chunks through one pool stay within memory.
 *
 * Callers reserve the expected size of a chunk before requesting it and release the reservation
 * once the bytes are consumed (not merely received: received-but-unconsumed bytes still occupy
 * memory). Reservations are granted in FIFO order; a reservation larger than the whole budget is
 * granted when nothing else is in flight (as Spark does), so an oversized chunk is fetched alone
 * rather than never.
 *
 * @module
 */

import type { CallOptions } from "../deadline.ts";
import { InvalidArgumentError, TimeoutError } from "../errors.ts";
import { DeadlineQueues } from "./deadline-queue.ts";
import type { Expirable } from "./deadline-queue.ts";
import { IntrusiveList, ListNode } from "./intrusive-list.ts";
import type { Clock } from "../clock.ts";
import { systemClock } from "../clock.ts";

/** Bytes held against a {@linkcode ByteBudget}; release exactly once (extra calls are no-ops). */
export class ByteReservation implements Disposable {
  readonly bytes: number;
  readonly #budget: ByteBudget;
  #released = false;

  constructor(budget: ByteBudget, bytes: number) {
    this.#budget = budget;
    this.bytes = bytes;
  }

  get released(): boolean {
    return this.#released;
  }

  /** Returns the bytes to the budget. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#budget.returnBytes(this.bytes);
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

class BudgetWaiter extends ListNode<BudgetWaiter> implements Expirable {
  deadline = Infinity;
  deadlinePrev: Expirable | null = null;
  deadlineNext: Expirable | null = null;
  deadlineQueue: object | null = null;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  constructor(
    readonly bytes: number,
    readonly resolve: (reservation: ByteReservation) => void,
    readonly reject: (error: unknown) => void,
  ) {
    super();
  }
}

/**
 * FIFO byte budget with deadlines and cancellation.
 *
 * @example
 * ```ts
 * import { ByteBudget } from "ferry-transport/pool";
 *
 * const budget = new ByteBudget(48 * 1024 * 1024, { name: "executor-1" });
 * const reservation = await budget.reserve(16 * 1024 * 1024, { timeoutMs: 5_000 });
 * try {
 *   // … fetch up to 16 MiB …
 * } finally {
 *   reservation.release();
 * }
 * console.log(budget.inFlight); // 0
 * ```
 */
export class ByteBudget {
  readonly maxBytes: number;
  readonly #name: string;
  readonly #waiters = new IntrusiveList<BudgetWaiter>();
  readonly #deadlines: DeadlineQueues<BudgetWaiter>;
  #inFlight = 0;

  /** `name` appears in error messages (e.g. the route key). */
  constructor(maxBytes: number, options: { name?: string; clock?: Clock } = {}) {
    if (!(maxBytes === Infinity || (Number.isSafeInteger(maxBytes) && maxBytes >= 1))) {
      throw new InvalidArgumentError(
        `Cannot create a byte budget: maxBytes must be an integer ≥ 1 or Infinity, received ${
          String(maxBytes)
        }`,
      );
    }
    this.maxBytes = maxBytes;
    this.#name = options.name ?? "peer";
    this.#deadlines = new DeadlineQueues<BudgetWaiter>(
      options.clock ?? systemClock,
      (waiter, timeoutMs) => {
        this.#leave(waiter);
        waiter.reject(
          new TimeoutError(
            `Reserving ${waiter.bytes} bytes of the in-flight budget for ${this.#name} timed out after ${timeoutMs} ms (${this.#inFlight} of ${this.maxBytes} bytes in flight, ${this.#waiters.size} reservations waiting)`,
            timeoutMs,
          ),
        );
        this.#grantWaiting();
      },
    );
  }

  /** Bytes reserved and not yet released. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Reservations waiting. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** Reserves `bytes` now if the budget allows and nobody is waiting; otherwise undefined. */
  tryReserve(bytes: number): ByteReservation | undefined {
    this.#checkBytes(bytes);
    if (this.#waiters.size > 0 || !this.#fits(bytes)) return undefined;
    this.#inFlight += bytes;
    return new ByteReservation(this, bytes);
  }

  /** Reserves `bytes`, waiting in FIFO order with the given deadline and signal. */
  reserve(bytes: number, options?: CallOptions): Promise<ByteReservation> {
    try {
      this.#checkBytes(bytes);
    } catch (error) {
      return Promise.reject(error);
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const granted = this.tryReserve(bytes);
    if (granted !== undefined) return Promise.resolve(granted);
    const timeoutMs = options?.timeoutMs ?? 0;
    if (!(Number.isFinite(timeoutMs) && timeoutMs >= 0)) {
      return Promise.reject(
        new InvalidArgumentError(
          `Cannot reserve bytes: timeoutMs must be a finite number ≥ 0, received ${timeoutMs}`,
        ),
      );
    }
    return new Promise<ByteReservation>((resolve, reject) => {
      const waiter = new BudgetWaiter(bytes, resolve, reject);
      this.#waiters.push(waiter);
      if (timeoutMs > 0) this.#deadlines.add(waiter, timeoutMs);
      if (signal !== undefined) {
        waiter.signal = signal;
        waiter.onAbort = () => {
          this.#leave(waiter);
          reject(signal.reason);
          this.#grantWaiting();
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
    });
  }

  /** Fails every waiting reservation with `error` (used when the owner closes). */
  rejectWaiting(error: unknown): void {
    for (let waiter = this.#waiters.shift(); waiter !== undefined; waiter = this.#waiters.shift()) {
      this.#detach(waiter);
      waiter.reject(error);
    }
    this.#deadlines.clear();
  }

  /** @internal Called by {@linkcode ByteReservation.release}. */
  returnBytes(bytes: number): void {
    this.#inFlight -= bytes;
    this.#grantWaiting();
  }

  #fits(bytes: number): boolean {
    return this.#inFlight === 0 || this.#inFlight + bytes <= this.maxBytes;
  }

  #grantWaiting(): void {
    for (;;) {
      const waiter = this.#waiters.first?.value;
      if (waiter === undefined || !this.#fits(waiter.bytes)) return;
      this.#leave(waiter);
      this.#inFlight += waiter.bytes;
      waiter.resolve(new ByteReservation(this, waiter.bytes));
    }
  }

  #leave(waiter: BudgetWaiter): void {
    this.#waiters.remove(waiter);
    this.#detach(waiter);
  }

  #detach(waiter: BudgetWaiter): void {
    this.#deadlines.remove(waiter);
    if (waiter.onAbort !== undefined) {
      waiter.signal!.removeEventListener("abort", waiter.onAbort);
      waiter.onAbort = undefined;
    }
  }

  #checkBytes(bytes: number): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new InvalidArgumentError(
        `Cannot reserve bytes of the in-flight budget for ${this.#name}: expected an integer ≥ 0, received ${
          String(bytes)
        }`,
      );
    }
  }
}
