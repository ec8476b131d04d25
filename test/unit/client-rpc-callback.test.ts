/**
 * `TransportClient.sendRpcWith` over the in-memory socket pair: the outcome of every RPC reaches
 * exactly one of its callbacks, once — replies matched by id, remote failures, refusals (in a
 * microtask, never inside the call), deadlines, signals and the connection's end.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { RpcCallback } from "../../src/client/transport-client.ts";
import {
  ConnectionClosedError,
  InvalidArgumentError,
  LimitError,
  RemoteError,
  TimeoutError,
} from "../../src/errors.ts";
import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { pattern, serve, text, utf8 } from "../helpers/engine-fixtures.ts";

const echo: RpcHandler = { receive: (_client, message) => message };

/** A callback that records every call, and a promise of its first outcome. */
function recorder() {
  const calls: ({ reply: Uint8Array } | { error: unknown })[] = [];
  let settle!: (outcome: { reply: Uint8Array } | { error: unknown }) => void;
  const outcome = new Promise<{ reply: Uint8Array } | { error: unknown }>((resolve) =>
    settle = resolve
  );
  const callback: RpcCallback = {
    onSuccess(reply) {
      calls.push({ reply });
      settle({ reply });
    },
    onFailure(error) {
      calls.push({ error });
      settle({ error });
    },
  };
  return { callback, calls, outcome };
}

async function replyOf(outcome: Promise<{ reply: Uint8Array } | { error: unknown }>) {
  const settled = await outcome;
  if ("error" in settled) throw settled.error;
  return settled.reply;
}

async function errorOf(outcome: Promise<{ reply: Uint8Array } | { error: unknown }>) {
  const settled = await outcome;
  assert.ok("error" in settled, "onFailure, not onSuccess");
  return settled.error;
}

test("sendRpcWith: echo of small, empty and 4 MiB bodies, each callback called once", async () => {
  const served = serve({ rpcHandler: echo });
  try {
    const big = pattern(4 * 1024 * 1024, 5);
    const runs = [utf8("hello"), new Uint8Array(0), big].map((body) => {
      const run = recorder();
      served.client.sendRpcWith(body, run.callback);
      return run;
    });
    assert.equal(text(await replyOf(runs[0]!.outcome)), "hello");
    assert.equal((await replyOf(runs[1]!.outcome)).byteLength, 0);
    assert.deepEqual(await replyOf(runs[2]!.outcome), big);
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.deepEqual(runs.map((run) => run.calls.length), [1, 1, 1]);
  } finally {
    await served.close();
  }
});

test("sendRpcWith: replies answered out of order reach their own callbacks", async () => {
  const served = serve({
    rpcHandler: {
      async receive(_client, message) {
        await new Promise((resolve) => setTimeout(resolve, (200 - message[0]!) % 5));
        return message;
      },
    },
  });
  try {
    const runs = Array.from({ length: 200 }, (_, i) => {
      const run = recorder();
      served.client.sendRpcWith(new Uint8Array([i, i >> 8]), run.callback);
      return run;
    });
    const replies = await Promise.all(runs.map((run) => replyOf(run.outcome)));
    replies.forEach((reply, i) => assert.deepEqual([...reply], [i & 0xff, i >> 8]));
    assert.equal(served.client.stats().inFlight.total, 0);
  } finally {
    await served.close();
  }
});

test("sendRpcWith: onSuccess may send the next request at once (1 000 in a chain)", async () => {
  const served = serve({ rpcHandler: echo });
  try {
    const seen: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const next = (i: number) =>
        served.client.sendRpcWith(new Uint8Array([i & 0xff]), {
          onSuccess(reply) {
            seen.push(reply[0]!);
            if (i + 1 < 1_000) next(i + 1);
            else resolve();
          },
          onFailure: reject,
        });
      next(0);
    });
    assert.equal(seen.length, 1_000);
    assert.deepEqual(seen.slice(0, 3), [0, 1, 2]);
    assert.equal(seen[999], 999 & 0xff);
  } finally {
    await served.close();
  }
});

test("sendRpcWith: a handler failure reaches onFailure as a RemoteError", async () => {
  const served = serve({
    rpcHandler: {
      receive() {
        throw new Error("no such thing");
      },
    },
  });
  try {
    const run = recorder();
    served.client.sendRpcWith(utf8("x"), run.callback);
    const error = await errorOf(run.outcome);
    assert.ok(error instanceof RemoteError);
    assert.match(error.message, /no such thing/);
  } finally {
    await served.close();
  }
});

test("sendRpcWith: refusals go to onFailure in a microtask, never inside the call", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const served = serve(
    { rpcHandler: { receive: async (_c, m) => (await gate, m) } },
    { maxInFlightRequests: 1 },
  );
  try {
    const first = recorder();
    served.client.sendRpcWith(utf8("1"), first.callback);
    const overLimit = recorder();
    served.client.sendRpcWith(utf8("2"), overLimit.callback);
    const badBody = recorder();
    served.client.sendRpcWith("text" as unknown as Uint8Array, badBody.callback);
    const badTimeout = recorder();
    served.client.sendRpcWith(utf8("3"), badTimeout.callback, { timeoutMs: -1 });
    assert.deepEqual([overLimit, badBody, badTimeout].map((run) => run.calls.length), [0, 0, 0]);
    assert.ok(await errorOf(overLimit.outcome) instanceof LimitError);
    assert.ok(await errorOf(badBody.outcome) instanceof InvalidArgumentError);
    assert.ok(await errorOf(badTimeout.outcome) instanceof InvalidArgumentError);
    release();
    assert.equal(text(await replyOf(first.outcome)), "1");
    assert.throws(
      () => served.client.sendRpcWith(utf8("4"), { onSuccess() {} } as unknown as RpcCallback),
      InvalidArgumentError,
    );
    assert.throws(
      () => served.client.sendRpcWith(utf8("4"), null as unknown as RpcCallback),
      InvalidArgumentError,
    );
  } finally {
    await served.close();
  }
});

test("sendRpcWith: a deadline fails the request alone; its late reply is dropped", async () => {
  const clock = new FakeClock();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const served = serve(
    {
      rpcHandler: {
        receive: async (_c, m) => (m[0] === 0 ? (await gate, m) : m),
      },
    },
    { clock },
  );
  try {
    const slow = recorder();
    served.client.sendRpcWith(new Uint8Array([0]), slow.callback, { timeoutMs: 50 });
    await new Promise((resolve) => setTimeout(resolve, 0));
    clock.advance(50);
    const error = await errorOf(slow.outcome);
    assert.ok(error instanceof TimeoutError);
    assert.match(error.message, /^RPC \d+ to .* timed out after 50 ms$/);
    const fast = recorder();
    served.client.sendRpcWith(new Uint8Array([1]), fast.callback, { timeoutMs: 50 });
    assert.deepEqual([...await replyOf(fast.outcome)], [1]);
    release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(slow.calls.length, 1, "the late reply does not call back again");
    assert.equal(served.client.stats().droppedReplies, 1);
  } finally {
    await served.close();
  }
});

test("sendRpcWith: an aborted signal fails the request with its reason", async () => {
  const served = serve({ rpcHandler: { receive: () => new Promise<Uint8Array>(() => {}) } });
  try {
    const controller = new AbortController();
    const run = recorder();
    served.client.sendRpcWith(utf8("x"), run.callback, { signal: controller.signal });
    const reason = new Error("changed my mind");
    controller.abort(reason);
    assert.equal(await errorOf(run.outcome), reason);
    const already = recorder();
    served.client.sendRpcWith(utf8("y"), already.callback, { signal: controller.signal });
    assert.equal(already.calls.length, 0);
    assert.equal(await errorOf(already.outcome), reason);
  } finally {
    await served.close();
  }
});

test("sendRpcWith: closing the connection fails requests in flight, then refuses new ones", async () => {
  const served = serve({ rpcHandler: { receive: () => new Promise<Uint8Array>(() => {}) } });
  const inFlight = recorder();
  served.client.sendRpcWith(utf8("x"), inFlight.callback);
  await new Promise((resolve) => setTimeout(resolve, 0));
  await served.client.close();
  assert.ok(await errorOf(inFlight.outcome) instanceof ConnectionClosedError);
  assert.equal(inFlight.calls.length, 1);
  const after = recorder();
  served.client.sendRpcWith(utf8("y"), after.callback);
  assert.ok(await errorOf(after.outcome) instanceof ConnectionClosedError);
  await served.close();
});
