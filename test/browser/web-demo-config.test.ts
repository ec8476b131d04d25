/**
 * The web demo's pure pieces, without a browser: how the page reads its gateway URL, target,
 * token and transfer settings from its own address, and how it formats sizes, rates and times.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { boundedInteger, readDemoConfig } from "../../web-demo/src/demo-config.ts";
import { formatBytes, formatDuration, formatRate } from "../../web-demo/src/format-units.ts";

test("the gateway URL follows the page's host and scheme; the target defaults to files", () => {
  const plain = readDemoConfig(new URL("http://127.0.0.1:8080/"));
  assert.deepEqual(plain, {
    target: "files",
    gatewayUrl: "ws://127.0.0.1:8080/gateway/files",
    token: undefined,
    connections: 4,
    inFlight: 16,
    problems: [],
  });
  const secure = readDemoConfig(new URL("https://demo.example:8443/?target=shuffle"));
  assert.equal(secure.gatewayUrl, "wss://demo.example:8443/gateway/shuffle");
  assert.equal(secure.target, "shuffle");
});

test("a target from the query stays one path segment (no path, host or query smuggled in)", () => {
  for (const target of ["../admin", "a/b", "evil.example:22", "x?y=1", "%2e%2e", "x#y"]) {
    const url = new URL(`http://127.0.0.1:8080/?target=${encodeURIComponent(target)}`);
    const config = readDemoConfig(url);
    const parsed = new URL(config.gatewayUrl);
    assert.equal(parsed.host, "127.0.0.1:8080", target);
    assert.equal(parsed.search, "", target);
    assert.equal(parsed.hash, "", target);
    assert.equal(parsed.pathname, `/gateway/${encodeURIComponent(target)}`, target);
    assert.equal(decodeURIComponent(parsed.pathname.slice("/gateway/".length)), target);
  }
});

test("a target no path segment can carry is refused", () => {
  for (const target of [".", ".."]) {
    assert.throws(
      () => readDemoConfig(new URL(`http://127.0.0.1/?target=${target}`)),
      { name: "TypeError", message: /must name a gateway target, received "\.{1,2}"/ },
    );
  }
});

test("the token comes from the fragment only; transfer settings are bounded", () => {
  const config = readDemoConfig(
    new URL("http://localhost:8080/?token=leaked&connections=3&inFlight=64#token=s3cret"),
  );
  assert.equal(config.token, "s3cret");
  assert.equal(config.connections, 3);
  assert.equal(config.inFlight, 64);
  const wild = readDemoConfig(new URL("http://localhost/?connections=99&inFlight=-1"));
  assert.equal(wild.connections, 4);
  // Bad values are shown to the user, not silently replaced.
  assert.deepEqual(wild.problems, [
    '?connections="99" is not a whole number from 1 to 16; using 4',
    '?inFlight="-1" is not a whole number from 1 to 256; using 16',
  ]);
  assert.deepEqual(readDemoConfig(new URL("http://localhost/?connections=abc")).problems, [
    '?connections="abc" is not a whole number from 1 to 16; using 4',
  ]);
  assert.deepEqual(config.problems, []);
  assert.equal(wild.inFlight, 16);
  assert.equal(boundedInteger("7", 1, 8, 2), 7);
  for (const text of ["0", "9", "1.5", "1e1", "", " ", "x", null, undefined]) {
    assert.equal(boundedInteger(text, 1, 8, 2), 2, String(text));
  }
});

test("sizes, rates and durations read naturally", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1024), "1.0 KiB");
  assert.equal(formatBytes(4 * 1024 * 1024 + 12_345), "4.0 MiB");
  assert.equal(formatBytes(256 * 2 ** 30), "256.0 GiB");
  assert.equal(formatBytes(-1), "–");
  assert.equal(formatRate(42 * 2 ** 20), "42.0 MiB/s");
  assert.equal(formatDuration(54.4), "54 ms");
  assert.equal(formatDuration(1_250), "1.3 s");
  assert.equal(formatDuration(42_000), "42 s");
  assert.equal(formatDuration(83_000), "1 min 23 s");
  assert.equal(formatDuration(Infinity), "–");
});
