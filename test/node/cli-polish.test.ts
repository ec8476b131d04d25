/**
 * The CLI's messages as a person meets them: usage errors without internal prefixes, an address
 * in use naming its flag, `--no-web` printing no web URL, a TCP URL pointed at an HTTP server
 * said to be one, an untrusted TLS certificate naming `--ca`, and singular forms ("1 chunk").
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runFerry, type RunningServe, startServe } from "../helpers/ferry-cli.ts";

const work = mkdtempSync(join(tmpdir(), "ferry-cli-polish-"));
process.env.XDG_CACHE_HOME = join(work, "cache");
const folder = join(work, "folder");
const PORTS = ["--host", "127.0.0.1", "--port", "0", "--ws-port", "0", "--http-port", "0"];
let serve: RunningServe;

before(async () => {
  mkdirSync(folder);
  writeFileSync(join(folder, "tiny.txt"), "hello");
  serve = await startServe([folder, ...PORTS, "--no-web", "--tls-port", "0"]);
});

after(async () => {
  await serve?.stop();
  rmSync(work, { recursive: true, force: true });
});

test("--no-web prints no web URL; one file and one chunk are singular", async () => {
  assert.doesNotMatch(serve.stdout(), /^Web demo/m);
  assert.match(serve.stdout(), /ferry serve: 1 file from /);
  const out = join(work, "tiny.txt");
  const result = await runFerry(["get", `${serve.tcp}tiny.txt`, out, "--connections", "1"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /\(5 B, 1 chunk of 768\.0 KiB\) .* over 1 connection, /);
  assert.match(result.stderr, /; 1 chunk fetched/);
});

test("--chunk-size 0 is a usage error (exit 2) without internal prefixes", async () => {
  const result = await runFerry(["serve", folder, ...PORTS, "--no-web", "--chunk-size", "0"]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /--chunk-size must be between 1 and \d+ bytes, got 0/);
  assert.doesNotMatch(result.stderr, /folderCatalog|InvalidArgumentError|Error:/);
});

test("an address in use names the flag that chose it", async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  const port = (taken.address() as net.AddressInfo).port;
  try {
    const result = await runFerry([
      "serve",
      folder,
      ...PORTS.slice(0, 4),
      "--ws-port",
      String(port),
      "--http-port",
      "0",
      "--no-web",
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`\\(--ws-port ${port}\\).*pick another with --ws-port`));
  } finally {
    taken.close();
  }
});

test("a tcp:// URL at an HTTP server says so; an untrusted certificate names --ca", async () => {
  const server = http.createServer((_request, response) => response.end("hi"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const port = (server.address() as net.AddressInfo).port;
    const result = await runFerry(["get", `tcp://127.0.0.1:${port}/x.bin`, join(work, "x.bin")]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /this looks like an HTTP server, not a Ferry or Spark peer/);
  } finally {
    server.close();
  }
  const untrusted = await runFerry(["get", `${serve.tls}tiny.txt`, join(work, "t.txt")]);
  assert.equal(untrusted.code, 1);
  assert.match(untrusted.stderr, /trust it with --ca FILE/);
});
