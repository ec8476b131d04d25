/**
 * Property test: random interleavings of leases, releases, timeouts, aborts, connects that
 * succeed or fail, clients that die and time that passes never break the pool's invariants —
 * limits hold, exclusive clients are never shared, inactive clients are never handed out, counts
 * stay consistent, and close() settles everything and leaves no timer.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ConnectError } from "../../../src/errors.ts";
import { ConnectionPool } from "../../../src/pool/connection-pool.ts";
import type { PoolLease } from "../../../src/pool/pool-lease.ts";
import { FakeClock } from "../../helpers/fake-clock.ts";
import { type FakeClient, FakeConnector } from "./fake-pool-client.ts";

const routes = ["a", "b"] as const;

type Step =
  | { kind: "lease"; route: number; timeoutMs: number; abortable: boolean }
  | { kind: "release"; pick: number; reusable: boolean }
  | { kind: "abort"; pick: number }
  | { kind: "connect"; ok: boolean }
  | { kind: "kill"; pick: number; graceful: boolean }
  | { kind: "advance"; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant("lease" as const),
      route: fc.nat(routes.length - 1),
      timeoutMs: fc.constantFrom(0, 0, 50, 200),
      abortable: fc.boolean(),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("release" as const),
      pick: fc.nat(),
      reusable: fc.boolean(),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant("abort" as const), pick: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("connect" as const), ok: fc.boolean() }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant("kill" as const),
      pick: fc.nat(),
      graceful: fc.boolean(),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      ms: fc.constantFrom(1, 30, 120, 1_000),
    }),
    weight: 1,
  },
);

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

test("random schedules keep every pool invariant", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        maxTotal: fc.integer({ min: 1, max: 4 }),
        maxPerRoute: fc.integer({ min: 1, max: 3 }),
        maxStreams: fc.constantFrom(1, 2, Infinity),
        idleTimeoutMs: fc.constantFrom(0, 100),
        timeToLiveMs: fc.constantFrom(0, 300),
        backoff: fc.boolean(),
      }),
      fc.array(step, { minLength: 1, maxLength: 60 }),
      async (config, steps) => {
        const clock = new FakeClock();
        const connector = new FakeConnector({ auto: false });
        const handedOutInactive: string[] = [];
        const pool = new ConnectionPool<FakeClient>({
          connector: connector.connect,
          clock,
          random: () => 0.5,
          maxTotal: config.maxTotal,
          maxPerRoute: config.maxPerRoute,
          maxStreamsPerConnection: config.maxStreams,
          idleTimeoutMs: config.idleTimeoutMs,
          timeToLiveMs: config.timeToLiveMs,
          leaseTimeoutMs: 0,
          validateAfterInactivityMs: 0,
          connectBackoff: config.backoff ? { initialMs: 50 } : false,
          hooks: {
            lease: (_route, client) => {
              if (!client.isActive) handedOutInactive.push(`#${client.id}`);
            },
          },
        });
        const held: PoolLease<FakeClient>[] = [];
        const waiting: { controller: AbortController | undefined; settled: boolean }[] = [];
        const all: Promise<unknown>[] = [];

        for (const s of steps) {
          switch (s.kind) {
            case "lease": {
              const controller = s.abortable ? new AbortController() : undefined;
              const entry = { controller, settled: false };
              waiting.push(entry);
              const promise = pool.lease(routes[s.route]!, {
                timeoutMs: s.timeoutMs,
                signal: controller?.signal,
              });
              all.push(promise.then(
                (lease) => {
                  entry.settled = true;
                  held.push(lease);
                },
                () => {
                  entry.settled = true;
                },
              ));
              break;
            }
            case "release": {
              if (held.length === 0) break;
              const [lease] = held.splice(s.pick % held.length, 1);
              lease!.release(s.reusable);
              break;
            }
            case "abort": {
              const open = waiting.filter((w) => !w.settled && w.controller !== undefined);
              if (open.length > 0) {
                open[s.pick % open.length]!.controller!.abort(new Error("abort"));
              }
              break;
            }
            case "connect":
              if (connector.pending.length === 0) break;
              if (s.ok) connector.completeNext();
              else connector.failNext(new ConnectError("refused"));
              break;
            case "kill": {
              const live = connector.created.filter((client) => client.isActive);
              if (live.length === 0) break;
              const victim = live[s.pick % live.length]!;
              if (s.graceful) victim.die();
              else victim.goStale();
              break;
            }
            case "advance":
              clock.advance(s.ms);
              break;
          }
          await flush();

          const stats = pool.stats();
          assert.ok(stats.total.connections <= config.maxTotal, "maxTotal holds");
          for (const route of Object.values(stats.routes)) {
            assert.ok(route.connections <= config.maxPerRoute, "maxPerRoute holds");
            assert.ok(route.connecting <= route.connections);
            assert.ok(route.leased >= 0 && route.available >= 0 && route.pending >= 0);
          }
          assert.ok(stats.total.leased <= held.length, "every counted lease is held");
          const perClient = new Map<FakeClient, number>();
          for (const lease of held) {
            perClient.set(lease.client, (perClient.get(lease.client) ?? 0) + 1);
          }
          for (const [client, count] of perClient) {
            if (client.isActive) {
              assert.ok(count <= config.maxStreams, `#${client.id} carries ${count} leases`);
            }
          }
          assert.deepEqual(handedOutInactive, [], "no inactive client was handed out");
          assert.equal(
            stats.total.pending,
            waiting.filter((w) => !w.settled).length,
            "every unsettled lease is counted as pending",
          );
        }

        await pool.close();
        await Promise.all(all);
        assert.ok(waiting.every((w) => w.settled), "close() settles every lease");
        assert.equal(clock.pendingTimers, 0, "close() leaves no timer");
        assert.ok(connector.created.every((client) => !client.isActive), "every client closed");
        for (const lease of held) lease.release();
        assert.equal(pool.stats().total.connections, 0);
      },
    ),
    { numRuns: 300 },
  );
});
