/**
 * One request waiting for its reply: the promise's settle functions and the deadline watching it.
 * Settles at most once; settling disposes the deadline (client/request-deadlines.ts). The hottest
 * requests need less: see {@linkcode ReplyWaiter}.
 *
 * @module
 */

/** What watches a reply's deadline; disposed once the reply settles. */
export interface ReplyDeadline {
  dispose(): void;
}

/** The shared promise executor of {@linkcode PendingReply.create}: parks the settlers here. */
let capturedResolve: ((value: never) => void) | undefined;
let capturedReject: ((error: unknown) => void) | undefined;
function captureSettlers(resolve: (value: never) => void, reject: (error: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}
/**
 * The executor of {@linkcode PendingReply.bare}: parks the resolve function only. Each function
 * parked is a store of a new object into the module's (old) context, a write barrier's slow path:
 * one of the per-RPC costs of a client.
 */
function captureResolve(resolve: (value: never) => void): void {
  capturedResolve = resolve;
}

/** A promise's resolve function. */
export type Resolve<T> = (value: T | PromiseLike<T>) => void;

/** What settles a reply's promise: a {@linkcode PendingReply}, or an object like it. */
export interface Settle<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/**
 * What waits for a reply: a {@linkcode PendingReply} (or a {@linkcode Settle} like it), or — for a
 * request with no deadline and no signal, which needs nothing else — its promise's bare resolve
 * function (no object per request; see {@linkcode PendingReply.bare}). Settle it with
 * {@linkcode resolveWaiter} / {@linkcode rejectWaiter}.
 */
export type ReplyWaiter<T> = Settle<T> | Resolve<T>;

export function resolveWaiter<T>(waiter: ReplyWaiter<T>, value: T): void {
  if (typeof waiter === "function") waiter(value);
  else waiter.resolve(value);
}

/** A bare resolve function rejects by adopting a thenable that rejects (a microtask later). */
export function rejectWaiter(
  waiter: { reject(error: unknown): void } | ((value: never) => void),
  error: unknown,
): void {
  if (typeof waiter !== "function") waiter.reject(error);
  else waiter({ then: (_: unknown, reject: (error: unknown) => void) => reject(error) } as never);
}

export class PendingReply<T> {
  /**
   * A promise without a PendingReply, for a waiter that needs only its resolve function: take it
   * with {@linkcode PendingReply.takeResolve} right after.
   */
  static bare<T>(): Promise<T> {
    return new Promise<T>(captureResolve);
  }

  /**
   * {@linkcode PendingReply.bare} for a waiter that also rejects it: take both settlers with
   * {@linkcode PendingReply.takeResolve} and {@linkcode PendingReply.takeReject} right after.
   */
  static bareWithReject<T>(): Promise<T> {
    return new Promise<T>(captureSettlers);
  }

  /** The resolve function of the promise {@linkcode PendingReply.bare} made last. */
  static takeResolve<T>(): Resolve<T> {
    const resolve = capturedResolve as Resolve<T>;
    capturedResolve = undefined;
    return resolve;
  }

  /** The reject function of the promise {@linkcode PendingReply.bareWithReject} made last. */
  static takeReject(): (error: unknown) => void {
    const reject = capturedReject!;
    capturedReject = undefined;
    return reject;
  }

  /**
   * A pending reply and the promise it settles. One executor shared by every call (no closure and
   * context per request on the hottest path).
   */
  static create<T>(): PendingReply<T> {
    const promise = new Promise<T>(captureSettlers);
    const reply = new PendingReply<T>(capturedResolve as (value: T) => void, capturedReject!);
    reply.promise = promise;
    return reply;
  }

  /** The promise this reply settles, when made by {@linkcode PendingReply.create}. */
  promise: Promise<T> | undefined = undefined;
  readonly #resolve: (value: T) => void;
  readonly #reject: (error: unknown) => void;
  /** Set once the deadline is armed (after registration, so an early abort finds the entry). */
  deadline: ReplyDeadline | undefined = undefined;
  #settled = false;

  constructor(resolve: (value: T) => void, reject: (error: unknown) => void) {
    this.#resolve = resolve;
    this.#reject = reject;
  }

  get settled(): boolean {
    return this.#settled;
  }

  resolve(value: T): void {
    if (this.#settled) return;
    this.#settled = true;
    // Settled first, disposed after: a caller's next request (in a reaction queued by settling)
    // then finds the client's deadline timer still armed (request-deadlines.ts).
    this.#resolve(value);
    this.deadline?.dispose();
  }

  reject(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(error);
    this.deadline?.dispose();
  }
}
