/**
 * With the Node adapter imported (Ferry's events go to `diagnostics_channel`) and no subscriber,
 * requests neither publish nor ask a channel for subscribers: the channels are read once per
 * connection, when it opens, and an unsubscribed connection has no tap. A subscriber makes the same
 * counters move on every request (so they would catch a publish added to the unsubscribed path).
 * Counted, not timed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import { tcpConnect, tcpListen } from "../../adapters/node/mod.ts";
import { tapOf } from "../../src/observability/observe.ts";
import type { Connect, Listen } from "../../src/socket.ts";
import { requestLifecycle } from "../helpers/request-lifecycle.ts";

/** Counts publishes and `hasSubscribers` reads of every channel (subscribed or not). */
function spyOnChannels() {
  const counts = { publishes: 0, reads: 0 };
  const restores: (() => void)[] = [];
  // A subscribed channel changes its prototype (ActiveChannel in Node 20); cover both.
  const subscribed = diagnosticsChannel.channel("ferry:cost-test:probe");
  const probe = () => {};
  subscribed.subscribe(probe);
  const prototypes = new Set([
    diagnosticsChannel.Channel.prototype,
    Object.getPrototypeOf(subscribed),
  ]);
  subscribed.unsubscribe(probe);
  for (const proto of prototypes) {
    const publish = Object.getOwnPropertyDescriptor(proto, "publish")!;
    const has = Object.getOwnPropertyDescriptor(proto, "hasSubscribers");
    Object.defineProperty(proto, "publish", {
      ...publish,
      value(this: unknown, message: unknown) {
        counts.publishes++;
        return publish.value.call(this, message);
      },
    });
    if (has?.get !== undefined) {
      Object.defineProperty(proto, "hasSubscribers", {
        ...has,
        get(this: unknown) {
          counts.reads++;
          return has.get!.call(this);
        },
      });
    }
    restores.push(() => {
      Object.defineProperty(proto, "publish", publish);
      if (has !== undefined) Object.defineProperty(proto, "hasSubscribers", has);
    });
  }
  return { counts, restore: () => restores.forEach((restore) => restore()) };
}

function tcpNetwork(): { listen: Listen; connect: Connect } {
  let port = 0;
  const listen = tcpListen({ host: "127.0.0.1", port: 0 });
  return {
    listen: async (onSocket) => {
      const listener = await listen(onSocket);
      port = listener.address.port;
      return listener;
    },
    connect: (options) => tcpConnect({ host: "127.0.0.1", port })(options),
  };
}

async function run(requests: number) {
  const spy = spyOnChannels();
  let tapped = false;
  let atStart = { publishes: 0, reads: 0 };
  let perRequests = { publishes: 0, reads: 0 };
  try {
    await requestLifecycle(tcpNetwork(), requests, {
      connected(client, serverSide) {
        tapped = tapOf(client) !== undefined || tapOf(serverSide) !== undefined;
        atStart = { ...spy.counts };
      },
      answered() {
        perRequests = {
          publishes: spy.counts.publishes - atStart.publishes,
          reads: spy.counts.reads - atStart.reads,
        };
      },
    });
  } finally {
    spy.restore();
  }
  return { tapped, perRequests };
}

test("no diagnostics_channel subscriber: requests publish nothing and check no channel", async () => {
  const { tapped, perRequests } = await run(64);
  console.log(
    `no subscriber: 64 RPCs + 64 chunk fetches: ${perRequests.publishes} publishes, ` +
      `${perRequests.reads} hasSubscribers reads`,
  );
  assert.equal(tapped, false);
  assert.deepEqual(perRequests, { publishes: 0, reads: 0 });
});

test("a diagnostics_channel subscriber is published to on every request", async () => {
  const seen: unknown[] = [];
  const subscriber = (message: unknown) => seen.push(message);
  diagnosticsChannel.subscribe("ferry:client:response", subscriber);
  try {
    const { tapped, perRequests } = await run(64);
    assert.equal(tapped, true);
    assert.ok(perRequests.publishes >= 128, `publishes: ${perRequests.publishes}`);
    assert.ok(seen.length >= 128, `messages: ${seen.length}`);
  } finally {
    diagnosticsChannel.unsubscribe("ferry:client:response", subscriber);
  }
});
