/**
 * The shared numeric-option checks (src/options.ts): the value comes back when valid, and a bad
 * value is refused with an InvalidArgumentError whose message names the option, the bound and the
 * value received — the message every options object (client, server, gateway, serving limits,
 * admission, RPC decode limits) gives.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/errors.ts";
import {
  integerAtLeast,
  integerOption,
  nonNegativeNumber,
  positiveInteger,
} from "../../src/options.ts";
import { resolveClientOptions } from "../../src/client/client-options.ts";
import { resolveGatewayOptions } from "../../src/gateway/gateway-options.ts";
import { MIN_FRAME_LENGTH } from "../../src/protocol/frame-limits.ts";

function refuses(run: () => unknown, message: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError);
    assert.equal(error.message, message);
    return true;
  });
}

test("integerAtLeast returns safe integers at or above the bound and names the rest", () => {
  assert.equal(integerAtLeast(0, 0, "X.a"), 0);
  assert.equal(integerAtLeast(9, 9, "X.a"), 9);
  refuses(() => integerAtLeast(8, 9, "X.a"), "Invalid X.a: expected an integer ≥ 9, got 8");
  refuses(() => integerAtLeast(1.5, 1, "X.a"), "Invalid X.a: expected an integer ≥ 1, got 1.5");
  refuses(() => integerAtLeast("3", 1, "X.a"), "Invalid X.a: expected an integer ≥ 1, got 3");
  refuses(
    () => integerAtLeast(Infinity, 1, "X.a"),
    "Invalid X.a: expected an integer ≥ 1, got Infinity",
  );
  refuses(
    () => integerAtLeast(2 ** 53, 1, "X.a"),
    `Invalid X.a: expected an integer ≥ 1, got ${2 ** 53}`,
  );
  refuses(() => positiveInteger(0, "Y.b"), "Invalid Y.b: expected an integer ≥ 1, got 0");
});

test("integerOption takes the fallback only for undefined and labels Owner.name", () => {
  const options: { n?: number | null } = {};
  assert.equal(integerOption(options, "n", 7, 1, "Owner"), 7);
  assert.equal(integerOption({ n: 3 }, "n", 7, 1, "Owner"), 3);
  refuses(
    () => integerOption({ n: null }, "n", 7, 1, "Owner"),
    "Invalid Owner.n: expected an integer ≥ 1, got null",
  );
});

test("nonNegativeNumber accepts finite numbers ≥ 0, fractions too", () => {
  assert.equal(nonNegativeNumber(0, "Z.ms"), 0);
  assert.equal(nonNegativeNumber(2.5, "Z.ms"), 2.5);
  refuses(() => nonNegativeNumber(-1, "Z.ms"), "Invalid Z.ms: expected a number ≥ 0, got -1");
  refuses(() => nonNegativeNumber(NaN, "Z.ms"), "Invalid Z.ms: expected a number ≥ 0, got NaN");
  refuses(
    () => nonNegativeNumber(Infinity, "Z.ms"),
    "Invalid Z.ms: expected a number ≥ 0, got Infinity",
  );
});

test("client and gateway refuse a maximum frame length below the protocol's minimum", () => {
  assert.equal(MIN_FRAME_LENGTH, 9);
  assert.equal(
    resolveClientOptions({ maxFrameLength: MIN_FRAME_LENGTH }).maxFrameLength,
    MIN_FRAME_LENGTH,
  );
  refuses(
    () => resolveClientOptions({ maxFrameLength: MIN_FRAME_LENGTH - 1 }),
    "Invalid ClientOptions.maxFrameLength: expected an integer ≥ 9, got 8",
  );
  refuses(
    () =>
      resolveGatewayOptions({
        targets: { t: { connect: () => Promise.reject(new Error("unused")) } },
        allowedOrigins: ["*"],
        maxFrameLength: MIN_FRAME_LENGTH - 1,
      } as never),
    "Invalid GatewayOptions.maxFrameLength: expected an integer ≥ 9, got 8",
  );
});
