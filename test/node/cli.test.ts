/**
 * The `ferry` CLI as a person runs it: `serve` on free ports with small demo data, `get` over
 * TCP, direct WebSocket and the gateway (byte-identical, verified), a resume from a recorded
 * partial file, Ctrl-C leaving a resumable partial file, and the failures: bad URL, refused
 * connection, missing file, existing output, `--help` — each with its exit status.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runFerry, type RunningServe, startFerry, startServe } from "../helpers/ferry-cli.ts";

const work = mkdtempSync(join(tmpdir(), "ferry-cli-"));
const demoDir = join(work, "demo");
// serve caches digests per user: keep this run's cache in its own folder.
process.env.XDG_CACHE_HOME = join(work, "cache");
let serve: RunningServe;
let folderServe: RunningServe;
const folder = join(work, "folder");
const CHUNK = 16 * 1024;

before(async () => {
  mkdirSync(folder);
  writeFileSync(join(folder, "large.bin"), randomBytes(24 * 1024 * 1024));
  const common = ["--host", "127.0.0.1", "--port", "0", "--ws-port", "0", "--http-port", "0"];
  [serve, folderServe] = await Promise.all([
    startServe([
      ...common,
      ...["--demo-size", "2M", "--demo-dir", demoDir, "--no-web"],
      ...["--tls-port", "0", "--cert-out", join(work, "cert.pem")],
    ]),
    startServe([folder, ...common, "--chunk-size", "16k", "--no-web"]),
  ]);
});

after(async () => {
  await Promise.all([serve?.stop(), folderServe?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

test("serve prints its URLs and lists the demo files it generated", () => {
  assert.match(serve.tcp, /^tcp:\/\/127\.0\.0\.1:\d+\/$/);
  assert.match(serve.ws, /^ws:\/\/127\.0\.0\.1:\d+\/$/);
  assert.match(serve.gateway, /^ws:\/\/127\.0\.0\.1:\d+\/gateway\/files\/$/);
  assert.match(serve.web, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.match(serve.stdout(), /big\.bin\s+2097152 bytes/);
  assert.match(serve.stdout(), /medium\.bin\s+3158073 bytes/);
});

test("get downloads over TCP, direct WebSocket and the gateway, byte-identical and verified", async () => {
  const source = join(demoDir, "files", "medium.bin");
  for (const [label, base] of [["tcp", serve.tcp], ["ws", serve.ws], ["gateway", serve.gateway]]) {
    const out = join(work, `medium-${label}.bin`);
    const result = await runFerry(["get", `${base}medium.bin`, out, "--progress", "lines"]);
    assert.equal(result.code, 0, `${label}: ${result.stderr}`);
    assert.equal(sha256(out), sha256(source), label);
    assert.equal(result.stdout.trim(), `${sha256(source)}  ${out}  verified`);
    assert.match(result.stderr, /progress 100\.0%/);
    assert.ok(!existsSync(`${out}.part`) && !existsSync(`${out}.part.json`), "no partial left");
  }
});

test("get over TLS trusts the server's self-signed certificate with --ca, and only then", async () => {
  assert.match(serve.tls ?? "", /^tls:\/\/127\.0\.0\.1:\d+\/$/);
  const out = join(work, "medium-tls.bin");
  const untrusted = await runFerry(["get", `${serve.tls}medium.bin`, out]);
  assert.equal(untrusted.code, 1);
  assert.match(untrusted.stderr, /cannot connect to tls:.*(certificate|self.signed)/i);
  const trusted = await runFerry([
    "get",
    `${serve.tls}medium.bin`,
    out,
    "--ca",
    join(work, "cert.pem"),
  ]);
  assert.equal(trusted.code, 0, trusted.stderr);
  assert.equal(sha256(out), sha256(join(demoDir, "files", "medium.bin")));
});

test("get resumes a recorded (version 1, prefix) partial download, fetching only what is missing", async () => {
  const source = join(folder, "large.bin");
  const bytes = readFileSync(source);
  const out = join(work, "resumed.bin");
  const chunkCount = Math.ceil(bytes.byteLength / CHUNK);
  const done = 700;
  // A partial from an earlier run: 700 chunks written, plus garbage past them (a torn write).
  writeFileSync(`${out}.part`, Buffer.concat([bytes.subarray(0, done * CHUNK), randomBytes(999)]));
  writeFileSync(
    `${out}.part.json`,
    JSON.stringify({
      version: 1,
      name: "large.bin",
      size: bytes.byteLength,
      chunkSize: CHUNK,
      chunkCount,
      sha256: sha256(source),
      chunksWritten: done,
    }),
  );
  const result = await runFerry(["get", `${folderServe.tcp}large.bin`, out, "--progress", "none"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, new RegExp(`resuming: ${done} chunks of .* verified and kept`));
  assert.match(result.stderr, new RegExp(`${chunkCount - done} chunks fetched, ${done} kept`));
  assert.equal(sha256(out), sha256(source));
  assert.ok(!existsSync(`${out}.part.json`));
});

test("Ctrl-C leaves a resumable partial file; the same command then finishes it", async () => {
  const source = join(folder, "large.bin");
  const out = join(work, "interrupted.bin");
  const args = [
    "get",
    `${folderServe.ws}large.bin`,
    out,
    "--connections",
    "1",
    "--in-flight",
    "1",
    "--progress",
    "lines",
  ];
  let interrupted = false;
  const { done } = startFerry(args, {
    onStderr: (text, child) => {
      if (!interrupted && /progress/.test(text)) {
        interrupted = true;
        child.kill("SIGINT");
      }
    },
  });
  const first = await done;
  assert.equal(first.code, 130, first.stderr);
  assert.match(first.stderr, /interrupted; \d+ chunks? saved/);
  const state = JSON.parse(readFileSync(`${out}.part.json`, "utf8"));
  const marked = [...Buffer.from(state.written, "base64")]
    .reduce((n, byte) => n + byte.toString(2).replaceAll("0", "").length, 0);
  assert.ok(marked > 0 && marked < state.chunkCount, `${marked}`);
  assert.ok(existsSync(`${out}.part`));

  const second = await runFerry(args);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, new RegExp(`resuming: ${marked} chunks? of .* verified and kept`));
  assert.equal(sha256(out), sha256(source));
});

test("failures are clear and exit non-zero: bad URL, refused, missing file, existing output", async () => {
  const badScheme = await runFerry(["get", "http://127.0.0.1:1/x.bin"]);
  assert.equal(badScheme.code, 2);
  assert.match(badScheme.stderr, /unsupported scheme http:/);
  const noPort = await runFerry(["get", "tcp://127.0.0.1/x.bin"]);
  assert.equal(noPort.code, 2);
  assert.match(noPort.stderr, /no port/);
  const noName = await runFerry(["get", serve.tcp]);
  assert.equal(noName.code, 2);
  assert.match(noName.stderr, /no file name/);

  const refused = await runFerry(["get", "tcp://127.0.0.1:1/x.bin", join(work, "x.bin")]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /cannot connect to tcp:\/\/127\.0\.0\.1:1\/x\.bin: .*ECONNREFUSED/);
  assert.ok(
    !existsSync(join(work, "x.bin.part")),
    "no partial file for a download that never began",
  );

  const missing = await runFerry(["get", `${serve.tcp}nope.bin`, join(work, "nope.bin")]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no file "nope\.bin" .*served: big\.bin, hello\.txt, medium\.bin/);

  const existing = join(work, "exists.bin");
  writeFileSync(existing, "keep me");
  const refusedOverwrite = await runFerry(["get", `${serve.tcp}hello.txt`, existing]);
  assert.equal(refusedOverwrite.code, 1);
  assert.match(refusedOverwrite.stderr, /already exists/);
  assert.equal(readFileSync(existing, "utf8"), "keep me");
  const forced = await runFerry(["get", `${serve.tcp}hello.txt`, existing, "--force"]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(readFileSync(existing, "utf8"), /Hello from Ferry/);

  const missingDir = await runFerry(["serve", join(work, "no-such-dir"), "--port", "0"]);
  assert.equal(missingDir.code, 1);
  assert.match(missingDir.stderr, /cannot serve .*no-such-dir/);
});

test("--help on every command, usage errors exit 2", async () => {
  for (const command of ["serve", "get", "bench"]) {
    const help = await runFerry([command, "--help"], { timeoutMs: 30_000 });
    assert.equal(help.code, 0, `${command}: ${help.stderr}`);
    assert.match(help.stdout, new RegExp(`Usage: ferry ${command}`));
  }
  const list = await runFerry(["bench", "--list"]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^chunk-fetch: /m, "ferry bench runs bench/run.ts");
  const top = await runFerry(["--help"]);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /serve \[dir\]/);
  const unknown = await runFerry(["fly"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "fly"/);
  const badFlag = await runFerry(["get", "--bogus", "tcp://a:1/b"]);
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /unknown option --bogus/);
});
