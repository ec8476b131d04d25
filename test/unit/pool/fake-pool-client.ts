/**
 * Fakes for pool unit tests: a client that satisfies `PooledClient` and can be killed, and a
 * connector whose connects the test completes or fails by hand.
 *
 * @module
 */

import type { CallOptions } from "../../../src/deadline.ts";
import type { Route } from "../../../src/pool/route.ts";
import { routeKey } from "../../../src/pool/route.ts";

export class FakeClient {
  readonly id: number;
  readonly routeKey: string;
  isActive = true;
  closeCalls = 0;
  readonly closed: Promise<{ error: unknown }>;
  #resolveClosed!: (value: { error: unknown }) => void;

  constructor(id: number, key: string) {
    this.id = id;
    this.routeKey = key;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  close(): Promise<void> {
    this.closeCalls++;
    this.isActive = false;
    this.#resolveClosed({ error: undefined });
    return Promise.resolve();
  }

  /** The peer went away: inactive, and `closed` settles with an error. */
  die(error: unknown = new Error("peer reset")): void {
    this.isActive = false;
    this.#resolveClosed({ error });
  }

  /** Inactive without `closed` having settled yet (a connection on its way down). */
  goStale(): void {
    this.isActive = false;
  }
}

interface PendingConnect {
  readonly route: Route;
  readonly options: CallOptions;
  readonly resolve: (client: FakeClient) => void;
  readonly reject: (error: unknown) => void;
}

/** A connector for tests: `auto` connects at once, otherwise connects wait for the test. */
export class FakeConnector {
  readonly created: FakeClient[] = [];
  readonly pending: PendingConnect[] = [];
  readonly calls: { route: Route; options: CallOptions }[] = [];
  auto: boolean;
  /** When set, automatic connects fail with this. */
  failWith: unknown = undefined;
  #nextId = 1;

  constructor(options: { auto?: boolean } = {}) {
    this.auto = options.auto ?? true;
  }

  readonly connect = (route: Route, options: CallOptions): Promise<FakeClient> => {
    this.calls.push({ route, options });
    if (this.auto) {
      if (this.failWith !== undefined) return Promise.reject(this.failWith);
      return Promise.resolve(this.#make(route));
    }
    return new Promise<FakeClient>((resolve, reject) => {
      const entry: PendingConnect = { route, options, resolve, reject };
      this.pending.push(entry);
      options.signal?.addEventListener("abort", () => reject(options.signal!.reason), {
        once: true,
      });
    });
  };

  /** Completes the oldest waiting connect with a new client. */
  completeNext(): FakeClient {
    const entry = this.pending.shift();
    if (entry === undefined) throw new Error("no connect is waiting");
    const client = this.#make(entry.route);
    entry.resolve(client);
    return client;
  }

  /** Fails the oldest waiting connect. */
  failNext(error: unknown): void {
    const entry = this.pending.shift();
    if (entry === undefined) throw new Error("no connect is waiting");
    entry.reject(error);
  }

  #make(route: Route): FakeClient {
    const client = new FakeClient(this.#nextId++, routeKey(route));
    this.created.push(client);
    return client;
  }
}
