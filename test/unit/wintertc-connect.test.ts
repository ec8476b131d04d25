/**
 * `winterTcConnect`: what it passes to the runtime's `connect`, the deadline and cancellation over
 * `opened`, and its error texts; driven by a fake WinterTC `connect` whose `opened` the test
 * settles by hand. Runs under Node and Deno.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConnectError, InvalidArgumentError, TimeoutError } from "../../src/errors.ts";
import {
  type WinterTcAddress,
  winterTcConnect,
  type WinterTcConnectFunction,
  type WinterTcOpenedInfo,
  type WinterTcSocketOptionsArg,
} from "../../adapters/wintertc/mod.ts";

/** A fake runtime `connect`: records calls; each socket's `opened` is settled by the test. */
function fakeRuntime() {
  const calls: { address: WinterTcAddress; options: WinterTcSocketOptionsArg }[] = [];
  const sockets: {
    open(info: WinterTcOpenedInfo): void;
    fail(error: unknown): void;
    closes: number;
  }[] = [];
  const connect: WinterTcConnectFunction = (address, options) => {
    calls.push({ address, options });
    const stream = new TransformStream<Uint8Array, Uint8Array>();
    let open!: (info: WinterTcOpenedInfo) => void;
    let fail!: (error: unknown) => void;
    const opened = new Promise<WinterTcOpenedInfo>((resolve, reject) => {
      open = resolve;
      fail = reject;
    });
    let resolveClosed!: () => void;
    const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
    const record = { open, fail, closes: 0 };
    sockets.push(record);
    return {
      readable: stream.readable,
      writable: stream.writable,
      opened,
      closed,
      close() {
        record.closes++;
        resolveClosed();
        return closed;
      },
    };
  };
  return { connect, calls, sockets };
}

describe("winterTcConnect", () => {
  it("asks for a plain, not half-open socket and takes the addresses from opened", async () => {
    const runtime = fakeRuntime();
    const connecting = winterTcConnect(runtime.connect, { host: "db.internal", port: 7337 })();
    assert.deepEqual(runtime.calls, [{
      address: { hostname: "db.internal", port: 7337 },
      options: { secureTransport: "off", allowHalfOpen: false },
    }]);
    runtime.sockets[0]!.open({ remoteAddress: "10.0.0.1:7337", localAddress: "10.0.0.2:5123" });
    const socket = await connecting;
    assert.deepEqual(socket.info, {
      transport: "tcp",
      remoteAddress: "10.0.0.1:7337",
      localAddress: "10.0.0.2:5123",
    });
    socket.close(new Error("done"));
    await socket.closed;
    assert.equal(runtime.sockets[0]!.closes, 1);
  });

  it("tls asks for secureTransport on; without addresses from opened it names the target", async () => {
    const runtime = fakeRuntime();
    const connecting = winterTcConnect(runtime.connect, { host: "::1", port: 443, tls: true })();
    assert.equal(runtime.calls[0]!.options.secureTransport, "on");
    runtime.sockets[0]!.open({});
    const socket = await connecting;
    assert.deepEqual(socket.info, { transport: "tls", remoteAddress: "[::1]:443" });
    socket.close(new Error("done"));
    await socket.closed;
  });

  it("opened rejecting is a ConnectError naming the target, with the cause", async () => {
    const runtime = fakeRuntime();
    const connecting = winterTcConnect(runtime.connect, { host: "127.0.0.1", port: 9 })();
    const refused = new Error("connection refused");
    runtime.sockets[0]!.fail(refused);
    await assert.rejects(
      connecting,
      (error) =>
        error instanceof ConnectError && error.cause === refused &&
        error.message === "connect to 127.0.0.1:9 failed: connection refused",
    );
    assert.equal(runtime.sockets[0]!.closes, 1);
  });

  it("a connect function that throws is a ConnectError", async () => {
    const thrown = new TypeError("proxy not allowed");
    const connect = winterTcConnect(() => {
      throw thrown;
    }, { host: "h", port: 1 });
    await assert.rejects(
      connect(),
      (error) => error instanceof ConnectError && error.cause === thrown,
    );
  });

  it("the deadline passing closes the socket and rejects with a TimeoutError", async () => {
    const runtime = fakeRuntime();
    const connect = winterTcConnect(runtime.connect, { host: "h", port: 1, timeoutMs: 60_000 });
    await assert.rejects(
      connect({ timeoutMs: 5 }),
      (error) =>
        error instanceof TimeoutError && error.timeoutMs === 5 &&
        error.message === "connect to h:1 timed out after 5 ms",
    );
    assert.equal(runtime.sockets[0]!.closes, 1);
    runtime.sockets[0]!.open({}); // too late: nothing happens
  });

  it("an aborted signal rejects with its reason, before or during the attempt", async () => {
    const runtime = fakeRuntime();
    const connect = winterTcConnect(runtime.connect, { host: "h", port: 1 });
    const early = new Error("not today");
    await assert.rejects(connect({ signal: AbortSignal.abort(early) }), (e) => e === early);
    assert.equal(runtime.calls.length, 0, "an aborted connect still called the runtime");
    const controller = new AbortController();
    const connecting = connect({ signal: controller.signal });
    const late = new Error("changed my mind");
    controller.abort(late);
    await assert.rejects(connecting, (e) => e === late);
    assert.equal(runtime.sockets[0]!.closes, 1);
  });

  it("rejects bad arguments with InvalidArgumentError naming the value", async () => {
    const { connect } = fakeRuntime();
    const bad: [() => unknown, RegExp][] = [
      [() => winterTcConnect(undefined as never, { host: "h", port: 1 }), /connectFn/],
      [() => winterTcConnect(connect, { host: "", port: 1 }), /host .* received $/],
      [() => winterTcConnect(connect, { host: "h", port: 70000 }), /received 70000/],
      [() => winterTcConnect(connect, { host: "h", port: 1, highWaterMark: 1.5 }), /1\.5/],
      [() => winterTcConnect(connect, { host: "h", port: 1, timeoutMs: -1 }), /timeoutMs/],
    ];
    for (const [call, message] of bad) {
      assert.throws(call, (e) => e instanceof InvalidArgumentError && message.test(e.message));
    }
    await assert.rejects(
      winterTcConnect(connect, { host: "h", port: 1 })({ timeoutMs: Number.NaN }),
      (e) => e instanceof InvalidArgumentError && /received NaN/.test(e.message),
    );
  });
});
