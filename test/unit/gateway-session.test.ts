/**
 * Gateway sessions in memory: the 17 interop checks pass through the gateway (with and without
 * token authentication), browser pings are answered by the gateway, other control messages are
 * never forwarded, and a backend that dies or goes silent ends the browser session with 4502.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { runInteropChecks } from "../../interop/checks.ts";
import { GatewayCloseCode } from "../../src/gateway/close-codes.ts";
import { authenticateToGateway } from "../../src/gateway/gateway-token.ts";
import { encodeControl } from "../../src/protocol/ferry-control.ts";
import { ferryPing } from "../../src/extensions/ferry-ping.ts";
import { RemoteError } from "../../src/errors.ts";
import { FakeClock, settle } from "../helpers/fake-clock.ts";
import { memoryGateway } from "../helpers/gateway-fixture.ts";

const TOKEN = "s3cret-token-for-tests";

describe("gateway session (memory)", () => {
  it("runs the 17 interop checks through the gateway", async () => {
    const fixture = await memoryGateway({ allowUpload: true });
    try {
      const { client } = fixture.client();
      const summary = await runInteropChecks(client, { checkTimeoutMs: 20_000 });
      assert.deepEqual(summary.results.filter((result) => !result.passed), []);
      assert.equal(summary.passed, 17);
      const stats = fixture.gateway.stats();
      assert.equal(stats.sessions.open, 1);
      assert.ok(stats.bytes.fromBrowsers > 4 * 1024 * 1024, "the 4 MiB echo went through");
      assert.ok(stats.bytes.toBrowsers > 4 * 1024 * 1024);
      assert.equal(fixture.connects(), 1, "one backend connection for the session");
      await client.close();
      // The gateway sees the browser's end a few event-loop turns later (a count, not a time).
      for (let turn = 0; turn < 100 && fixture.gateway.stats().sessions.open > 0; turn++) {
        await settle();
      }
      assert.equal(fixture.gateway.stats().sessions.open, 0);
      assert.equal(
        fixture.gateway.stats().pool.total.connections,
        0,
        "the backend connection is closed, never reused for another browser",
      );
    } finally {
      await fixture.close();
    }
  });

  it("authenticates with the bearer token first, then proxies", async () => {
    const fixture = await memoryGateway({ allowUpload: true, token: TOKEN });
    try {
      const { client } = fixture.client();
      assert.equal(fixture.connects(), 0, "no backend connect before authentication");
      await authenticateToGateway(client, TOKEN, { timeoutMs: 5000 });
      const summary = await runInteropChecks(client, { checkTimeoutMs: 20_000 });
      assert.equal(summary.passed, 17, JSON.stringify(summary.results.filter((r) => !r.passed)));
      await client.close();
    } finally {
      await fixture.close();
    }
  });

  it("answers Ferry pings itself and refuses to forward other control messages", async () => {
    const fixture = await memoryGateway();
    try {
      const { client } = fixture.client();
      await ferryPing(client, { timeoutMs: 5000 });
      const other = encodeControl(0x10 as never, new Uint8Array([1, 2, 3]));
      await assert.rejects(client.sendRpc(other, { timeoutMs: 5000 }), (error: unknown) => {
        assert.ok(error instanceof RemoteError);
        assert.match(error.remoteMessage, /does not forward Ferry control messages/);
        return true;
      });
      assert.equal(
        new TextDecoder().decode(await client.sendRpc(new TextEncoder().encode("still here"))),
        "still here",
      );
      await client.close();
    } finally {
      await fixture.close();
    }
  });

  it("a backend that closes ends the browser session with 4502", async () => {
    const fixture = await memoryGateway();
    try {
      const { client, edge } = fixture.client();
      await client.sendRpc(new TextEncoder().encode("hello"));
      const pending = client.sendRpc(new TextEncoder().encode("x"), { timeoutMs: 10_000 })
        .catch((error) => error);
      fixture.backendSockets[0]!.close(new Error("backend crashed"));
      await client.closed;
      assert.equal(edge.closeCode, GatewayCloseCode.BadGateway);
      assert.ok((await pending) instanceof Error);
      assert.equal(fixture.gateway.stats().refusals["backend-closed"], 1);
    } finally {
      await fixture.close();
    }
  });

  it("a silent Ferry backend is detected by the heartbeat and the browser gets 4502", async () => {
    // The gateway's clock drives the backend heartbeat: time moves only when the test says.
    const clock = new FakeClock();
    const fixture = await memoryGateway(
      { clock, backend: { heartbeat: { intervalMs: 20, timeoutMs: 60 } } },
      { peerFeatures: ["ferry"] },
    );
    try {
      const { client, edge } = fixture.client();
      await client.sendRpc(new TextEncoder().encode("hello"));
      // The backend stops reading: pings pile up unanswered, like a half-open connection.
      fixture.backendSockets[0]!.pause();
      const outcome: { closed?: Awaited<typeof client.closed> } = {};
      void client.closed.then((closed) => (outcome.closed = closed));
      const advance = async (ms: number) => {
        for (let step = 0; step < ms && outcome.closed === undefined; step += 5) {
          clock.advance(5);
          await settle();
        }
      };
      await advance(55);
      assert.equal(outcome.closed, undefined, "no verdict before the heartbeat's 60 ms timeout");
      await advance(1_000);
      assert.ok(outcome.closed !== undefined, "the heartbeat gave up within 1 s of silence");
      assert.ok((await client.closed).error !== undefined);
      assert.equal(edge.closeCode, GatewayCloseCode.BadGateway);
      assert.match(String((edge.closeError as Error).message), /Heartbeat|no pong/);
    } finally {
      await fixture.close();
    }
  });
});
