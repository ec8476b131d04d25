/**
 * Hundreds of connects in flight through one pool over real loopback TCP: each connect (and its
 * bootstraps) gets its own child of the pool's abort signal, so Node never sees more than a few
 * abort listeners on one `AbortSignal` (no `MaxListenersExceededWarning`), a finished connect leaves
 * no listener behind, and closing the pool still aborts every connect and bootstrap in progress.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { tcpConnect, tcpListen } from "../../adapters/node/tcp.ts";
import type { TransportClient } from "../../src/client/transport-client.ts";
import { ConnectionPool } from "../../src/pool/connection-pool.ts";
import { PoolClosedError } from "../../src/pool/pool-errors.ts";
import type { Connector } from "../../src/pool/pool-options.ts";
import type { RouteAddress } from "../../src/pool/route.ts";
import { transportConnector } from "../../src/pool/transport-connector.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { withoutLeaks } from "../conformance/socket-harness.ts";
import { utf8 } from "../helpers/engine-fixtures.ts";

const CONNECTS = 200;

/** Collects the process warnings of one kind emitted while `body` runs (and a turn after). */
async function warningsDuring(name: string, body: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const onWarning = (warning: Error) => {
    if (warning.name === name) seen.push(warning.message);
  };
  process.on("warning", onWarning);
  try {
    await body();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off("warning", onWarning);
  }
  return seen;
}

/** Wraps a connector to record the signal each connect got and its listener count at the end. */
function recording(inner: Connector<TransportClient>) {
  const signals: AbortSignal[] = [];
  const connector: Connector<TransportClient> = (route, options) => {
    signals.push(options.signal!);
    return inner(route, options);
  };
  return { connector, signals };
}

async function listening(
  rpcHandler: ConstructorParameters<typeof TransportServer>[0]["rpcHandler"],
) {
  const server = new TransportServer({ rpcHandler });
  const listener = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
  const route: RouteAddress = { host: "127.0.0.1", port: listener.address.port };
  return { server, route };
}

test(`${CONNECTS} concurrent connects through one pool: no MaxListenersExceededWarning, no listener left`, () =>
  withoutLeaks(async () => {
    const { server, route } = await listening({ receive: (_client, message) => message });
    const { connector, signals } = recording(
      transportConnector((r) => tcpConnect(r as RouteAddress)),
    );
    const pool = new ConnectionPool({
      connector,
      maxTotal: CONNECTS,
      maxPerRoute: CONNECTS,
      maxStreamsPerConnection: 1,
      connectBackoff: false,
    });
    const warnings = await warningsDuring("MaxListenersExceededWarning", async () => {
      try {
        const leases = await Promise.all(
          Array.from({ length: CONNECTS }, () => pool.lease(route, { timeoutMs: 60_000 })),
        );
        assert.equal(new Set(leases.map((lease) => lease.client)).size, CONNECTS);
        for (const lease of leases) lease.release();
      } finally {
        await pool.close();
        await server.close();
      }
    });
    assert.deepEqual(warnings, []);
    assert.equal(signals.length, CONNECTS);
    assert.equal(new Set(signals).size, CONNECTS, "every connect has its own signal");
    for (const signal of signals) {
      assert.equal(signal.aborted, false, "a finished connect's signal is released, not aborted");
      assert.equal(getEventListeners(signal, "abort").length, 0, "no listener left behind");
    }
  }));

test(`closing the pool aborts ${CONNECTS} bootstraps in progress, without the warning`, () =>
  withoutLeaks(async () => {
    // The server never answers: each bootstrap waits on an RPC bounded only by the pool's signal.
    let received = 0;
    let allReceived!: () => void;
    const arrived = new Promise<void>((resolve) => (allReceived = resolve));
    const { server, route } = await listening({
      receive: () => {
        if (++received === CONNECTS) allReceived();
        return new Promise<Uint8Array>(() => {});
      },
    });
    const aborted: unknown[] = [];
    const { connector, signals } = recording(
      transportConnector((r) => tcpConnect(r as RouteAddress)),
    );
    const pool = new ConnectionPool({
      connector,
      maxTotal: CONNECTS,
      maxPerRoute: CONNECTS,
      maxStreamsPerConnection: 1,
      connectBackoff: false,
      bootstrapTimeoutMs: 0,
      bootstraps: [
        async (client, context) => {
          await client.sendRpc(utf8("hello?"), { signal: context.signal }).catch((error) => {
            aborted.push(error);
            throw error;
          });
        },
      ],
    });
    const warnings = await warningsDuring("MaxListenersExceededWarning", async () => {
      const leases = Array.from(
        { length: CONNECTS },
        () => pool.lease(route, { timeoutMs: 0 }).then(() => "leased", (error) => error),
      );
      await arrived;
      assert.ok(signals.every((signal) => !signal.aborted));
      await pool.close();
      for (const outcome of await Promise.all(leases)) {
        assert.ok(outcome instanceof PoolClosedError, String(outcome));
      }
      await server.close();
    });
    assert.deepEqual(warnings, []);
    assert.equal(aborted.length, CONNECTS, "every bootstrap's RPC was aborted");
    assert.ok(aborted.every((error) => error instanceof PoolClosedError), String(aborted[0]));
    assert.ok(signals.every((signal) => signal.aborted), "every connect's signal aborted");
  }));
