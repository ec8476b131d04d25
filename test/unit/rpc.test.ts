/**
 * Typed services end to end over an in-memory connection: results of every msgpack type (bigint
 * ids, binary without base64), failures as RemoteError with the service's code, the router's own
 * refusals, deadlines and aborts, composition with another handler, and malformed bodies.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TransportClient } from "../../src/client/transport-client.ts";
import { PayloadError, RemoteError, TimeoutError } from "../../src/errors.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import {
  decodeServiceReply,
  defineService,
  encodeServiceRequest,
  method,
  pooledRpcTarget,
  RpcErrorCode,
  serviceClient,
  ServiceError,
  ServiceRouter,
} from "../../src/rpc/mod.ts";
import { memoryNetwork, memorySocketPair } from "../helpers/memory-socket.ts";
import { ConnectionPool } from "../../src/pool/connection-pool.ts";
import { FakeClock, settle } from "../helpers/fake-clock.ts";
import type { Clock, TimerHandle } from "../../src/clock.ts";
import type { ClientOptions } from "../../src/client/client-options.ts";
import { transportConnector } from "../../src/pool/transport-connector.ts";

interface Record64 {
  readonly id: bigint;
  readonly data: Uint8Array;
  readonly tags: string[];
  readonly nested: { readonly ok: boolean; readonly ratio: number; readonly none: null };
}

const echo = defineService("test.echo", {
  roundTrip: method<Record64, Record64>(),
  fail: method<{ code: string }, never>(),
  crash: method<void, never>(),
  sum: method<{ values: number[] }, number>({
    params: (value) => {
      const values = (value as { values?: unknown })?.values;
      if (!Array.isArray(values) || !values.every((v) => typeof v === "number")) {
        throw new TypeError(`values must be an array of numbers`);
      }
      return { values: values as number[] };
    },
  }),
  slow: method<{ ms: number }, string>(),
  peer: method<void, string>(),
  unencodable: method<void, unknown>(),
});

const otherService = defineService("test.other", { hi: method<void, string>() });

function serve(router: RpcHandler, clientOptions: ClientOptions = {}) {
  const server = new TransportServer({ rpcHandler: router });
  const [a, b] = memorySocketPair();
  server.accept(b);
  const client = new TransportClient(a, clientOptions);
  return {
    client,
    close: async () => {
      client.close();
      await server.close();
    },
  };
}

/** `slow` answers after `ms` on `clock` (a hand-driven one unless the test passes another). */
function echoRouter(
  options: ConstructorParameters<typeof ServiceRouter>[0] = {},
  clock: Clock = new FakeClock(),
) {
  const timers = new Set<TimerHandle>();
  const router = new ServiceRouter(options).serve(echo, {
    roundTrip: (value) => value,
    fail: ({ code }) => {
      throw new ServiceError(code, `failed on purpose with ${code}`);
    },
    crash: () => Promise.reject(new RangeError("kaboom")),
    sum: ({ values }) => values.reduce((a, b) => a + b, 0),
    slow: ({ ms }) =>
      new Promise((resolve) => {
        const timer = clock.setTimer(() => (timers.delete(timer), resolve("late")), ms);
        timers.add(timer);
      }),
    peer: (_params, context) => `${context.service}.${context.method} ${typeof context.client}`,
    unencodable: () => 2n ** 70n,
  });
  return { router, clear: () => timers.forEach((timer) => clock.clearTimer(timer)) };
}

test("results of every supported type round-trip: bigint ids, binary, arrays, maps", async () => {
  const { router } = echoRouter();
  const { client, close } = serve(router);
  try {
    const api = serviceClient(echo, client);
    const data = new Uint8Array(70_000).map((_, i) => (i * 31) & 0xff);
    for (const id of [0n, 1n, 2n ** 63n - 1n, -(2n ** 63n), 9_007_199_254_740_993n]) {
      const sent: Record64 = {
        id,
        data,
        tags: ["a", "ü", ""],
        nested: { ok: true, ratio: 0.25, none: null },
      };
      const got = await api.roundTrip(sent);
      assert.equal(typeof got.id, "bigint");
      assert.equal(got.id, id);
      assert.ok(got.data instanceof Uint8Array);
      assert.deepEqual(new Uint8Array(got.data), data);
      assert.deepEqual(got.tags, sent.tags);
      assert.deepEqual({ ...got.nested }, sent.nested);
    }
    assert.equal(await api.sum({ values: [1, 2, 3.5] }), 6.5);
    assert.equal(await api.peer(), "test.echo.peer object");
  } finally {
    await close();
  }
});

test("a ServiceError crosses as RemoteError with its code and message", async () => {
  const { router } = echoRouter();
  const { client, close } = serve(router);
  try {
    const api = serviceClient(echo, client);
    const error = await api.fail({ code: "E_NOPE" }).then(() => undefined, (e) => e);
    assert.ok(error instanceof RemoteError);
    assert.equal(error.code, "ERR_REMOTE");
    assert.equal(error.remoteCode, "E_NOPE");
    assert.equal(error.remoteMessage, "failed on purpose with E_NOPE");
    assert.match(error.message, /test\.echo\.fail .*E_NOPE/);
  } finally {
    await close();
  }
});

test("an implementation's other errors are ERR_RPC_INTERNAL and reported to the server", async () => {
  const reported: string[] = [];
  const { router } = echoRouter({
    onInternalError: (error, context) => reported.push(`${context.method}: ${error}`),
  });
  const { client, close } = serve(router);
  try {
    const api = serviceClient(echo, client);
    await assert.rejects(api.crash(), (e: RemoteError) => {
      assert.equal(e.remoteCode, RpcErrorCode.Internal);
      assert.match(e.remoteMessage, /kaboom/);
      return true;
    });
    assert.deepEqual(reported, ["crash: RangeError: kaboom"]);
    await assert.rejects(
      api.unencodable(),
      (e: RemoteError) => e.remoteCode === RpcErrorCode.BadResult && /64-bit/.test(e.remoteMessage),
    );
  } finally {
    await close();
  }
});

test("unknown services and methods, and parameters failing the check, are typed refusals", async () => {
  const { router } = echoRouter();
  const { client, close } = serve(router);
  try {
    await assert.rejects(
      serviceClient(otherService, client).hi(),
      (e: RemoteError) =>
        e.remoteCode === RpcErrorCode.UnknownService && /test\.other/.test(e.remoteMessage),
    );
    const wrongMethods = defineService("test.echo", { nothere: method<void, void>() });
    await assert.rejects(
      serviceClient(wrongMethods, client).nothere(),
      (e: RemoteError) =>
        e.remoteCode === RpcErrorCode.UnknownMethod && /nothere/.test(e.remoteMessage),
    );
    const api = serviceClient(echo, client);
    await assert.rejects(
      api.sum({ values: ["1"] as unknown as number[] }),
      (e: RemoteError) =>
        e.remoteCode === RpcErrorCode.BadRequest && /array of numbers/.test(e.remoteMessage),
    );
    // A prefixed body whose payload is not [service, method, params].
    const garbage = encodeServiceRequest("x", "y", 1).slice(0, 8);
    const reply = decodeServiceReply(await client.sendRpc(garbage), "garbage");
    assert.equal(reply.ok, false);
    assert.equal(!reply.ok && reply.code, RpcErrorCode.BadRequest);
  } finally {
    await close();
  }
});

test("parameters that cannot be encoded fail locally with PayloadError", async () => {
  const { router } = echoRouter();
  const { client, close } = serve(router);
  try {
    const api = serviceClient(echo, client);
    const bad = { id: 2n ** 64n, data: new Uint8Array(), tags: [], nested: {} } as never;
    await assert.rejects(api.roundTrip(bad), (e: PayloadError) => e.code === "ERR_PAYLOAD");
    await assert.rejects(
      api.sum({ values: [() => 1] as unknown as number[] }),
      (e: PayloadError) => e instanceof PayloadError && /function/.test(e.message),
    );
  } finally {
    await close();
  }
});

test("a reply that is not an envelope, or fails the result check, is a PayloadError", async () => {
  const fake = {
    remoteAddress: "fake",
    sendRpc: (_body: Uint8Array) => Promise.resolve(Uint8Array.of(0x92, 0x05, 0x01)),
  };
  const api = serviceClient(echo, fake);
  await assert.rejects(api.peer(), (e: PayloadError) => e.code === "ERR_PAYLOAD");
  const truncated = { sendRpc: () => Promise.resolve(Uint8Array.of(0x92, 0x00)) };
  await assert.rejects(serviceClient(echo, truncated).peer(), PayloadError);
  const checked = defineService("test.echo", {
    peer: method<void, number>({
      result: (v) => {
        if (typeof v !== "number") throw new TypeError(`expected a number, got ${typeof v}`);
        return v;
      },
    }),
  });
  const { router } = echoRouter();
  const { client, close } = serve(router);
  try {
    await assert.rejects(
      serviceClient(checked, client).peer(),
      (e: PayloadError) => e instanceof PayloadError && /expected a number/.test(e.message),
    );
  } finally {
    await close();
  }
});

test("every call takes timeoutMs and signal", async () => {
  // One hand-driven clock for the client's deadlines and the handler's delay: no real waiting.
  const clock = new FakeClock();
  const { router, clear } = echoRouter({}, clock);
  const { client, close } = serve(router, { clock });
  try {
    const api = serviceClient(echo, client);
    const timedOut = api.slow({ ms: 5_000 }, { timeoutMs: 20 });
    await settle();
    clock.advance(19);
    await settle();
    let early: unknown = "pending";
    timedOut.then((value) => (early = value), (error) => (early = error));
    await settle();
    assert.equal(early, "pending", "no timeout before timeoutMs");
    clock.advance(1);
    await assert.rejects(timedOut, TimeoutError);
    const controller = new AbortController();
    const call = api.slow({ ms: 5_000 }, { signal: controller.signal });
    controller.abort(new Error("user gave up"));
    await assert.rejects(call, /user gave up/);
    const withDefault = serviceClient(echo, client, { timeoutMs: 20 });
    const defaulted = withDefault.slow({ ms: 5_000 });
    await settle();
    clock.advance(20);
    await assert.rejects(defaulted, TimeoutError);
    const late = api.slow({ ms: 1_000 }, { timeoutMs: 5_000 });
    await settle();
    clock.advance(1_000); // the handler answers well within the call's deadline
    assert.equal(await late, "late");
  } finally {
    clear();
    await close();
  }
});

test("the router shares a connection with another handler; without one it refuses", async () => {
  const fallback: RpcHandler = {
    receive: (_client, message) => Uint8Array.of(message.byteLength),
  };
  const { router } = echoRouter({ fallback });
  const { client, close } = serve(router);
  try {
    assert.deepEqual(await client.sendRpc(Uint8Array.of(1, 2, 3)), Uint8Array.of(3));
    assert.equal(await serviceClient(echo, client).sum({ values: [2, 2] }), 4);
  } finally {
    await close();
  }
  const alone = serve(echoRouter().router);
  try {
    await assert.rejects(
      alone.client.sendRpc(Uint8Array.of(1, 2, 3)),
      (e: RemoteError) => e.code === "ERR_REMOTE" && /not a typed-service request/.test(e.message),
    );
  } finally {
    await alone.close();
  }
});

test("definitions and implementations are checked", () => {
  assert.throws(() => defineService("", { a: method() }), /invalid service name/);
  assert.throws(() => defineService("s", {}), /at least one method/);
  assert.throws(() => defineService("s", { constructor: method() }), /invalid method name/);
  assert.throws(
    () => new ServiceRouter().serve(otherService, {} as never),
    /has no function hi/,
  );
  const router = new ServiceRouter().serve(otherService, { hi: () => "hi" });
  assert.throws(() => router.serve(otherService, { hi: () => "again" }), /already served/);
  assert.throws(() => serviceClient(echo, {} as never), /sendRpc/);
});

test("pooledRpcTarget leases a connection per call and releases it", async () => {
  const network = memoryNetwork();
  const server = new TransportServer({ rpcHandler: echoRouter().router });
  await server.listen(network.listen);
  const pool = new ConnectionPool<TransportClient>({
    connector: transportConnector(() => network.connect),
    maxPerRoute: 2,
    maxStreamsPerConnection: 1,
  });
  try {
    const api = serviceClient(echo, pooledRpcTarget(pool, "memory"));
    const sums = await Promise.all([1, 2, 3, 4].map((n) => api.sum({ values: [n, n] })));
    assert.deepEqual(sums, [2, 4, 6, 8]);
    assert.equal(pool.stats().total.leased, 0);
    assert.ok(server.connections.size <= 2, "never more connections than the route allows");
    await assert.rejects(
      api.fail({ code: "E_POOL" }),
      (e: RemoteError) => e.remoteCode === "E_POOL" && /memory/.test(e.message),
    );
    assert.equal(pool.stats().total.leased, 0, "a failed call released its lease too");
  } finally {
    await pool.close();
    await server.close();
  }
});

test("pooledRpcTarget gives the call what the lease's wait left of timeoutMs, on the pool's clock", async () => {
  const clock = new FakeClock();
  const given: (number | undefined)[] = [];
  const replies: (() => void)[] = [];
  let markClosed!: () => void;
  const client = {
    isActive: true,
    closed: new Promise<void>((resolve) => (markClosed = resolve)),
    close: () => markClosed(),
    sendRpc(body: Uint8Array, options?: { timeoutMs?: number }): Promise<Uint8Array> {
      given.push(options?.timeoutMs);
      return new Promise((resolve) => replies.push(() => resolve(body)));
    },
  };
  const pool = new ConnectionPool<typeof client>({
    connector: () => Promise.resolve(client),
    maxPerRoute: 1,
    maxStreamsPerConnection: 1,
    clock,
  });
  try {
    const target = pooledRpcTarget(pool, "one");
    const first = target.sendRpc(new Uint8Array([1]), { timeoutMs: 1_000 });
    const second = target.sendRpc(new Uint8Array([2]), { timeoutMs: 1_000 });
    while (given.length < 1) await settle();
    clock.advance(300); // the second call waits 300 ms for the only connection
    replies.shift()!();
    await first;
    while (given.length < 2) await settle();
    assert.deepEqual(given, [1_000, 700]);
    replies.shift()!();
    assert.deepEqual(await second, new Uint8Array([2]));
  } finally {
    await pool.close();
  }
});
