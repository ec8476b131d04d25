/**
 * `ferry get` against hostile names, damaged partial files and a network that flips a bit: a
 * name that would leave the current directory is a usage error before anything is created (even
 * against a server that does not check names), a directory as output receives the file, a
 * truncated and bit-flipped `.part` is repaired by fetching only its bad chunks, an unreadable
 * `.part.json` is reported (and the `.part` still checked and kept), and a chunk corrupted in
 * flight by a proxy is refetched and the download verified.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runFerry, type RunningServe, startServe } from "../helpers/ferry-cli.ts";
import { tcpListen } from "../../adapters/node/tcp.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { OneForOneStreamManager } from "../../src/responder/one-for-one-stream-manager.ts";
import { defineService, method, ServiceRouter } from "../../src/rpc/mod.ts";
import { fileService } from "../../src/files/file-service.ts";
import { fileServiceImplementation } from "../../src/files/file-service-handler.ts";
import { memoryFileCatalog } from "../../src/files/file-catalog.ts";

const work = mkdtempSync(join(tmpdir(), "ferry-get-safety-"));
process.env.XDG_CACHE_HOME = join(work, "cache");
const folder = join(work, "folder");
const CHUNK = 16 * 1024;
const bytes = randomBytes(2 * 1024 * 1024 + 1234);
const chunkCount = Math.ceil(bytes.byteLength / CHUNK);
let serve: RunningServe;

before(async () => {
  mkdirSync(folder);
  writeFileSync(join(folder, "data.bin"), bytes);
  serve = await startServe([
    folder,
    ...["--host", "127.0.0.1", "--port", "0", "--ws-port", "0", "--http-port", "0"],
    ...["--chunk-size", "16k", "--no-web"],
  ]);
});

after(async () => {
  await serve?.stop();
  rmSync(work, { recursive: true, force: true });
});

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

test("a name that is a path is a usage error, even against a server that does not check names", async () => {
  // A server that opens whatever name it is asked for.
  const catalog = memoryFileCatalog({ "x": bytes.subarray(0, 100) });
  const streams = new OneForOneStreamManager();
  const inner = fileServiceImplementation(catalog, streams);
  const careless = defineService(fileService.name, {
    list: fileService.methods.list,
    open: method<{ name: string }, unknown>(),
    release: fileService.methods.release,
    digests: fileService.methods.digests,
  });
  const router = new ServiceRouter().serve(careless, {
    ...inner,
    open: (_params, context) => inner.open({ name: "x" }, context),
  });
  const server = new TransportServer({ rpcHandler: router, streamManager: streams });
  const listener = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
  const cwd = join(work, "escape", "a", "b");
  mkdirSync(cwd, { recursive: true });
  try {
    for (const name of ["..%2f..%2fpwned.txt", "%2fetc%2fx", "..", "a%5cb", "x%00y"]) {
      const url = `tcp://127.0.0.1:${listener.address.port}/${name}`;
      const result = await runFerry(["get", url], { cwd });
      assert.equal(result.code, 2, `${name}: ${result.stderr}`);
      assert.match(result.stderr, /not a plain file name|no file name/, name);
      assert.doesNotMatch(result.stderr, /UsageError|Error:/, name);
    }
    assert.deepEqual(readdirSync(cwd), []);
    assert.deepEqual(readdirSync(join(work, "escape")), ["a"]);
    assert.deepEqual(readdirSync(join(work, "escape", "a")), ["b"]);
  } finally {
    await server.close();
  }
});

test("a directory given as output receives the file under its name", async () => {
  const dir = join(work, "into");
  mkdirSync(dir);
  const result = await runFerry(["get", `${serve.tcp}data.bin`, dir, "--progress", "none"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(sha256(readFileSync(join(dir, "data.bin"))), sha256(bytes));
  assert.deepEqual(readdirSync(dir), ["data.bin"]);
});

test("a truncated and bit-flipped .part is repaired: only the bad and missing chunks are fetched", async () => {
  const out = join(work, "repaired.bin");
  const part = Buffer.from(bytes.subarray(0, 100 * CHUNK + 77)); // chunk 100 torn, rest missing
  part[3 * CHUNK + 9]! ^= 0x10;
  part[42 * CHUNK]! ^= 0x01;
  writeFileSync(`${out}.part`, part);
  // The record claims every chunk: the next run must not believe it.
  writeFileSync(
    `${out}.part.json`,
    JSON.stringify({
      version: 2,
      name: "data.bin",
      size: bytes.byteLength,
      chunkSize: CHUNK,
      chunkCount,
      sha256: sha256(bytes),
      written: Buffer.alloc(Math.ceil(chunkCount / 8), 0xff).toString("base64"),
    }),
  );
  const result = await runFerry(["get", `${serve.tcp}data.bin`, out, "--progress", "none"]);
  assert.equal(result.code, 0, result.stderr);
  const bad = 2 + (chunkCount - 100);
  assert.match(
    result.stderr,
    new RegExp(`resuming: ${chunkCount - bad} chunks .* kept, ${bad} bad`),
  );
  assert.match(result.stderr, new RegExp(`; ${bad} chunks fetched, ${chunkCount - bad} kept`));
  assert.equal(sha256(readFileSync(out)), sha256(bytes));
  assert.ok(!existsSync(`${out}.part`) && !existsSync(`${out}.part.json`));
});

test("an unreadable .part.json is reported, and the .part is still checked and kept", async () => {
  const out = join(work, "garbage-record.bin");
  writeFileSync(`${out}.part`, bytes.subarray(0, 50 * CHUNK));
  writeFileSync(`${out}.part.json`, "{ not json");
  const result = await runFerry(["get", `${serve.tcp}data.bin`, out, "--progress", "none"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /part\.json is not a valid record/);
  assert.match(result.stderr, /resuming: 50 chunks .* verified and kept/);
  assert.equal(sha256(readFileSync(out)), sha256(bytes));
});

test("a chunk corrupted in flight is refetched and the download verified", async () => {
  const port = Number(/:(\d+)\/$/.exec(serve.tcp)![1]);
  // Flips one byte of the server→client stream of the first connection, well inside the chunk
  // bodies (past the open and digests replies; one connection keeps the byte order fixed).
  const FLIP_AT = 300_000;
  let first = true;
  const proxy = net.createServer((client) => {
    const upstream = net.connect(port, "127.0.0.1");
    let seen = 0;
    const flip = first;
    first = false;
    client.pipe(upstream);
    upstream.on("data", (data: Buffer) => {
      if (flip && seen <= FLIP_AT && FLIP_AT < seen + data.length) data[FLIP_AT - seen]! ^= 0x40;
      seen += data.length;
      client.write(data);
    });
    const end = () => (client.destroy(), upstream.destroy());
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  try {
    const out = join(work, "in-flight.bin");
    const url = `tcp://127.0.0.1:${(proxy.address() as net.AddressInfo).port}/data.bin`;
    const result = await runFerry(["get", url, out, "--connections", "1", "--progress", "none"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /1 chunk refetched after failing its SHA-256/);
    assert.equal(sha256(readFileSync(out)), sha256(bytes));
  } finally {
    proxy.close();
  }
});

test("a chunk that stays damaged fails the download naming it; the message names the next step", async () => {
  const honest = memoryFileCatalog({ "x.bin": new Uint8Array(bytes.subarray(0, 8 * CHUNK)) }, {
    chunkSize: CHUNK,
  });
  const streams = new OneForOneStreamManager();
  const router = new ServiceRouter().serve(
    fileService,
    fileServiceImplementation({
      list: () => honest.list(),
      open: async (name) => {
        const file = (await honest.open(name))!;
        return {
          ...file,
          source: {
            chunkCount: file.source.chunkCount,
            getChunk: async (index) => {
              const chunk = new Uint8Array(await file.source.getChunk(index)); // a copy
              if (index === 3) chunk[100]! ^= 1; // every time
              return chunk;
            },
          },
        };
      },
    }, streams),
  );
  const server = new TransportServer({ rpcHandler: router, streamManager: streams });
  const listener = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
  try {
    const out = join(work, "damaged.bin");
    const url = `tcp://127.0.0.1:${listener.address.port}/x.bin`;
    const result = await runFerry(["get", url, out, "--progress", "none"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /Chunk 3 of x\.bin failed its SHA-256 on all 4 fetches/);
    assert.match(result.stderr, /chunks kept in .*damaged\.bin\.part; run the same command again/);
    assert.match(result.stderr, /or add --restart to start over/);
    assert.ok(!existsSync(out), "nothing saved under the final name");
  } finally {
    await server.close();
  }
});

test("a symlink planted at <out>.part is not written through", async () => {
  const victim = join(work, "victim.txt");
  writeFileSync(victim, "precious\n");
  const out = join(work, "planted.bin");
  symlinkSync(victim, `${out}.part`);
  const result = await runFerry(["get", `${serve.tcp}data.bin`, out, "--progress", "none"]);
  assert.notEqual(result.code, 0, result.stderr);
  assert.equal(readFileSync(victim, "utf8"), "precious\n");
  assert.ok(!existsSync(out));
});

test("a port out of range is named as such", async () => {
  const result = await runFerry(["get", "tcp://127.0.0.1:99999/data.bin"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /port 99999 .* is out of range/);
});
