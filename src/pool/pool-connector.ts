/**
 * The pool's asynchronous edge: opening a connection (connector, then every bootstrap, under
 * deadlines), validating one, and closing one — and keeping track of all of it so that
 * `ConnectionPool.close()` can abort what is in progress and resolve only once nothing is left
 * running. A client that arrives after its attempt was given up (deadline passed, pool closed)
 * is closed on arrival, never leaked.
 *
 * Every connect, bootstrap run and validation gets its own child `AbortSignal`, which `abort()`
 * aborts and which is dropped (never aborted) when the operation finishes. The pool's own signal
 * is never handed out: hundreds of concurrent connects would each hang an abort listener (the
 * connector's deadline, the guard's) on one shared signal, which Node reports as a
 * `MaxListenersExceededWarning`, and a listener left by a misbehaving connector would outlive its
 * connect. A child collects only its own operation's listeners and is garbage once it is done.
 *
 * @module
 */

import type { CallOptions } from "../deadline.ts";
import { ConnectionClosedError, InvalidArgumentError, TimeoutError } from "../errors.ts";
import type { Clock } from "../clock.ts";
import type {
  BootstrapContext,
  ClientBootstrap,
  ConnectionPoolOptions,
  ConnectionValidator,
  Connector,
  PooledClient,
  RouteSettings,
} from "./pool-options.ts";
import { defaultPoolOptions, duration } from "./pool-options.ts";
import type { PooledConnection } from "./pooled-connection.ts";
import type { Route } from "./route.ts";

const ignore = (): void => {};

/** Calls `run` now; a synchronous throw becomes a rejection. */
function attempt<T>(run: () => T | PromiseLike<T>): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Opens, validates and closes the pool's clients; tracks everything in progress. */
export class PoolConnector<C extends PooledClient> {
  readonly #connect: Connector<C>;
  readonly #bootstraps: readonly ClientBootstrap<C>[];
  readonly #bootstrapTimeoutMs: number;
  readonly #clock: Clock;
  readonly #abort = new AbortController();
  /** The signals of connects, bootstraps and validations in progress; `abort()` aborts them. */
  readonly #children = new Set<AbortController>();
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(options: ConnectionPoolOptions<C>, clock: Clock) {
    this.#connect = options.connector;
    this.#bootstraps = [...(options.bootstraps ?? [])];
    for (const [index, bootstrap] of this.#bootstraps.entries()) {
      if (typeof bootstrap !== "function") {
        throw new InvalidArgumentError(
          `Cannot create a ConnectionPool: bootstraps[${index}] must be a function, received ${typeof bootstrap}`,
        );
      }
    }
    this.#bootstrapTimeoutMs = duration(
      options.bootstrapTimeoutMs ?? defaultPoolOptions.bootstrapTimeoutMs,
      "bootstrapTimeoutMs",
      "ConnectionPool",
    );
    this.#clock = clock;
  }

  /** Opens a pooled connection; `done` gets the client, or undefined and the error. */
  establish(
    connection: PooledConnection<C>,
    done: (client: C | undefined, error: unknown) => void,
  ): void {
    const state = connection.route;
    this.#track(
      this.open(state.route, state.key, state.settings, connection.peerFeatures).then(
        (client) => done(client, undefined),
        (error) => done(undefined, error),
      ),
    );
  }

  /**
   * Connects and bootstraps one client. `options` (unmanaged clients) add the caller's signal and
   * deadline; the pool's own abort always applies.
   */
  async open(
    route: Route,
    key: string,
    settings: RouteSettings,
    peerFeatures: Set<string>,
    options?: CallOptions,
  ): Promise<C> {
    const child = this.#child();
    try {
      return await this.#open(route, key, settings, peerFeatures, child.signal, options);
    } finally {
      this.#children.delete(child);
    }
  }

  async #open(
    route: Route,
    key: string,
    settings: RouteSettings,
    peerFeatures: Set<string>,
    poolSignal: AbortSignal,
    options: CallOptions | undefined,
  ): Promise<C> {
    const signal = options?.signal === undefined
      ? poolSignal
      : AbortSignal.any([poolSignal, options.signal]);
    const connectTimeoutMs = options?.timeoutMs ?? settings.connectTimeoutMs;
    const client = await this.#guard(
      attempt(() => this.#connect(route, { timeoutMs: connectTimeoutMs, signal })),
      connectTimeoutMs,
      signal,
      `Connecting to ${key}`,
    );
    try {
      if (this.#bootstraps.length > 0) {
        const deadline = this.#bootstrapTimeoutMs > 0
          ? this.#clock.now() + this.#bootstrapTimeoutMs
          : Infinity;
        for (const bootstrap of this.#bootstraps) {
          const remaining = deadline === Infinity ? 0 : Math.max(1, deadline - this.#clock.now());
          const context: BootstrapContext = {
            route,
            routeKey: key,
            timeoutMs: remaining,
            signal,
            peerFeatures,
          };
          await this.#guard(
            attempt(() => bootstrap(client, context)),
            remaining,
            signal,
            `Bootstrapping the connection to ${key}`,
          );
        }
      }
      if (!client.isActive) {
        throw new ConnectionClosedError(
          `Opening a connection to ${key} failed: it closed before it could be handed out`,
        );
      }
      if (signal.aborted) throw signal.reason;
      return client;
    } catch (error) {
      this.close(client);
      throw error;
    }
  }

  /** Runs `validator` under a deadline; `done(true)` only for an explicit success. */
  validate(
    connection: PooledConnection<C>,
    validator: ConnectionValidator<C>,
    timeoutMs: number,
    done: (ok: boolean) => void,
  ): void {
    const child = this.#child();
    const signal = child.signal;
    this.#track(
      this.#guard(
        attempt(() => validator(connection.client!, connection, { timeoutMs, signal })),
        timeoutMs,
        signal,
        `Validating the connection to ${connection.route.key}`,
      ).then((ok) => ok !== false, () => false).then((ok) => {
        this.#children.delete(child);
        done(ok);
      }),
    );
  }

  /** Closes a client without throwing; `settled()` waits for it. */
  close(client: C): void {
    let result: unknown;
    try {
      result = client.close();
    } catch {
      result = undefined;
    }
    this.#track(Promise.allSettled([result, client.closed]));
  }

  /** Aborts connects, bootstraps and validations in progress (and any started later). */
  abort(reason: unknown): void {
    this.#abort.abort(reason);
    const children = [...this.#children];
    this.#children.clear();
    for (const child of children) child.abort(reason);
  }

  /** Resolves once nothing started here is still running. */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** A signal for one operation: aborted by `abort()` until the caller deletes it from the set. */
  #child(): AbortController {
    const child = new AbortController();
    if (this.#abort.signal.aborted) child.abort(this.#abort.signal.reason);
    else this.#children.add(child);
    return child;
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.then(ignore, ignore).finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }

  /**
   * `promise` bounded by `timeoutMs` (0 = none) and `signal`. If it loses the race and later
   * yields a client, that client is closed.
   */
  #guard<T>(
    promise: Promise<T>,
    timeoutMs: number,
    signal: AbortSignal,
    what: string,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      let timer: unknown = undefined;
      const finish = (): boolean => {
        if (done) return false;
        done = true;
        if (timer !== undefined) this.#clock.clearTimer(timer);
        signal.removeEventListener("abort", onAbort);
        return true;
      };
      const giveUp = (error: unknown): void => {
        if (!finish()) return;
        reject(error);
        // Not tracked: close() must not wait on a promise that may never settle. A client that
        // still arrives is closed on arrival.
        promise.then((late) => this.#closeLate(late), ignore);
      };
      const onAbort = (): void => giveUp(signal.reason);
      if (signal.aborted) {
        giveUp(signal.reason);
        return;
      }
      signal.addEventListener("abort", onAbort, { once: true });
      if (timeoutMs > 0) {
        timer = this.#clock.setTimer(
          () => giveUp(new TimeoutError(`${what} timed out after ${timeoutMs} ms`, timeoutMs)),
          timeoutMs,
        );
      }
      promise.then(
        (value) => {
          if (finish()) resolve(value);
        },
        (error) => {
          if (finish()) reject(error);
        },
      );
    });
  }

  #closeLate(value: unknown): void {
    const candidate = value as Partial<PooledClient> | null;
    if (
      candidate !== null && typeof candidate === "object" &&
      typeof candidate.close === "function" &&
      candidate.closed !== undefined
    ) {
      this.close(candidate as C);
    }
  }
}
