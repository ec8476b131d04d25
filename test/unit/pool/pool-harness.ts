/**
 * Builds a pool over the fake connector and clock with every timing rule off unless a test turns
 * it on, and records the pool's hook events.
 *
 * @module
 */

import { ConnectionPool } from "../../../src/pool/connection-pool.ts";
import type { ConnectionPoolOptions } from "../../../src/pool/pool-options.ts";
import { FakeClock } from "../../helpers/fake-clock.ts";
import { type FakeClient, FakeConnector } from "./fake-pool-client.ts";

export interface Harness {
  readonly pool: ConnectionPool<FakeClient>;
  readonly clock: FakeClock;
  readonly connector: FakeConnector;
  /** Hook events as `type route [client id] [extra]` strings, in order. */
  readonly events: string[];
}

export function harness(
  options: Partial<ConnectionPoolOptions<FakeClient>> & { auto?: boolean } = {},
): Harness {
  const clock = new FakeClock();
  const connector = new FakeConnector({ auto: options.auto ?? true });
  const events: string[] = [];
  const pool = new ConnectionPool<FakeClient>({
    connector: connector.connect,
    clock,
    random: () => 0,
    leaseTimeoutMs: 0,
    idleTimeoutMs: 0,
    validateAfterInactivityMs: 0,
    hooks: {
      connect: (route, client) => events.push(`connect ${route} #${client.id}`),
      connectFailed: (route) => events.push(`connect-failed ${route}`),
      close: (route, client, reason) => events.push(`close ${route} #${client.id} ${reason}`),
      lease: (route, client) => events.push(`lease ${route} #${client.id}`),
      release: (route, client, reusable) =>
        events.push(`release ${route} #${client.id}${reusable ? "" : " broken"}`),
    },
    ...options,
  });
  return { pool, clock, connector, events };
}

/** Records the order in which promises settle: `ok <label>` or `err <label> <code|message>`. */
export function track<T>(order: string[], label: string, promise: Promise<T>): Promise<T> {
  promise.then(
    () => order.push(`ok ${label}`),
    (error: { code?: string; message?: string }) =>
      order.push(`err ${label} ${error?.code ?? error?.message}`),
  );
  return promise;
}
