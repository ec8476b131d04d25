import { test } from "node:test";
import assert from "node:assert/strict";
import { decodePem, encodePem } from "../../../src/tls/pem.ts";
import { InvalidArgumentError } from "../../../src/errors.ts";

test("PEM round-trips bytes with 64-character lines", () => {
  for (const size of [0, 1, 2, 3, 47, 48, 49, 100, 100_000]) {
    const der = new Uint8Array(size);
    for (let i = 0; i < size; i++) der[i] = (i * 37 + 11) & 0xff;
    const pem = encodePem("CERTIFICATE", der);
    assert.ok(pem.startsWith("-----BEGIN CERTIFICATE-----\n"));
    assert.ok(pem.endsWith("-----END CERTIFICATE-----\n"));
    const body = pem.split("\n").slice(1, -2);
    assert.ok(body.slice(0, -1).every((line) => line.length === 64));
    assert.ok((body.at(-1) ?? "").length <= 64);
    assert.deepEqual(decodePem("CERTIFICATE", pem), der);
  }
});

test("decodePem finds the labelled block among others and reports bad input", () => {
  const key = encodePem("PRIVATE KEY", Uint8Array.of(1, 2, 3));
  const cert = encodePem("CERTIFICATE", Uint8Array.of(9, 8));
  assert.deepEqual(decodePem("CERTIFICATE", `${key}junk\r\n${cert}`), Uint8Array.of(9, 8));
  assert.deepEqual(decodePem("PRIVATE KEY", `${key}${cert}`), Uint8Array.of(1, 2, 3));
  assert.throws(() => decodePem("CERTIFICATE", key), InvalidArgumentError);
  assert.throws(
    () => decodePem("CERTIFICATE", "-----BEGIN CERTIFICATE-----\n@@@\n-----END CERTIFICATE-----"),
    InvalidArgumentError,
  );
});
