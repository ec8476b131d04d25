/**
 * `ferry serve`'s folder catalog on hostile folders: symlinks out of the folder are neither listed
 * nor opened, a dangling symlink does not stop the scan, a file overwritten in place with the same
 * size and mtime is detected and hashed again, thousands of opens share one descriptor, and the
 * digest cache lives where it is told (never in the folder or the current directory).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { folderCatalog } from "../../cli/folder-catalog.ts";
import type { CatalogFile } from "../../src/files/file-catalog.ts";

const CHUNK = 4096;

function setup() {
  const work = mkdtempSync(join(tmpdir(), "ferry-folder-"));
  const dir = join(work, "served");
  const outside = join(work, "outside");
  mkdirSync(dir);
  mkdirSync(outside);
  writeFileSync(join(outside, "secret.txt"), "not for you\n");
  return { work, dir, outside, cache: join(work, "cache") };
}

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest();

test("symlinks leaving the folder are skipped; inside ones and dangling ones do not stop it", async () => {
  const { work, dir, outside, cache } = setup();
  try {
    writeFileSync(join(dir, "a.bin"), randomBytes(10_000));
    symlinkSync(join(outside, "secret.txt"), join(dir, "link-out"));
    symlinkSync("../outside/secret.txt", join(dir, "relative-out"));
    symlinkSync(join(dir, "a.bin"), join(dir, "link-in"));
    symlinkSync(join(dir, "nowhere"), join(dir, "dangling"));
    mkdirSync(join(dir, "sub"));
    const warnings: string[] = [];
    const catalog = await folderCatalog(dir, {
      chunkSize: CHUNK,
      cacheDir: cache,
      warn: (line) => warnings.push(line),
    });
    const names = (await catalog.list()).map((info) => info.name);
    assert.deepEqual(names, ["a.bin", "link-in"]);
    assert.equal(await catalog.open("link-out"), undefined);
    assert.equal(await catalog.open("relative-out"), undefined);
    assert.equal(await catalog.open("dangling"), undefined);
    assert.ok(warnings.some((line) => /link-out.*leaving/.test(line)), warnings.join("\n"));
    assert.ok(warnings.some((line) => /dangling.*to nothing/.test(line)), warnings.join("\n"));
    const followed = await folderCatalog(dir, { chunkSize: CHUNK, followSymlinks: true });
    assert.ok((await followed.list()).some((info) => info.name === "link-out"));
    // The cache went to the cache directory, nothing was written beside the served files.
    assert.deepEqual(readdirSync(dir).sort(), [
      "a.bin",
      "dangling",
      "link-in",
      "link-out",
      "relative-out",
      "sub",
    ]);
    assert.ok(readdirSync(join(cache, "digests")).length >= 1);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test("a name swapped for a symlink or a FIFO after the scan is refused, not followed or waited on", async () => {
  const { work, dir, outside } = setup();
  try {
    writeFileSync(join(dir, "a.bin"), "a");
    writeFileSync(join(dir, "b.bin"), "b");
    const catalog = await folderCatalog(dir, { chunkSize: CHUNK });
    rmSync(join(dir, "a.bin"));
    symlinkSync(join(outside, "secret.txt"), join(dir, "a.bin"));
    await assert.rejects(Promise.resolve(catalog.open("a.bin")), /ELOOP|symbolic link/);
    rmSync(join(dir, "b.bin"));
    execFileSync("mkfifo", [join(dir, "b.bin")]);
    await assert.rejects(Promise.resolve(catalog.open("b.bin")), /not a regular file/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test("a file with more chunks than maxChunksPerFile is skipped, naming a chunk size that fits", async () => {
  const { work, dir } = setup();
  try {
    writeFileSync(join(dir, "many.bin"), new Uint8Array((1 << 20) + 1));
    writeFileSync(join(dir, "few.bin"), new Uint8Array(10));
    const warnings: string[] = [];
    const catalog = await folderCatalog(dir, { chunkSize: 1, warn: (l) => warnings.push(l) });
    assert.deepEqual((await catalog.list()).map((info) => info.name), ["few.bin"]);
    assert.match(
      warnings.join("\n"),
      /many\.bin .*1048577 chunks .*chunk size of at least 2 bytes/,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test("a file overwritten in place with the same size and mtime is rehashed before it is served", async () => {
  const { work, dir, cache } = setup();
  try {
    const path = join(dir, "f.bin");
    const first = randomBytes(3 * CHUNK + 17);
    writeFileSync(path, first);
    utimesSync(path, 1_700_000_000, 1_700_000_000); // a whole second: restorable exactly
    const before = statSync(path, { bigint: true });
    const catalog = await folderCatalog(dir, { chunkSize: CHUNK, cacheDir: cache });
    const old = (await catalog.open("f.bin"))!;
    assert.equal(old.info.sha256, sha(first).toString("hex"));
    old.source.close?.();

    const second = Buffer.from(first);
    second[CHUNK + 5]! ^= 0xff;
    writeFileSync(path, second);
    utimesSync(path, 1_700_000_000, 1_700_000_000);
    const after = statSync(path, { bigint: true });
    assert.equal(after.mtimeNs, before.mtimeNs);
    assert.equal(after.size, before.size);
    assert.equal(after.ino, before.ino);

    const opened = (await catalog.open("f.bin"))!;
    assert.equal(opened.info.sha256, sha(second).toString("hex"));
    assert.ok(
      sha(second.subarray(CHUNK, 2 * CHUNK)).equals(opened.digests.chunks.subarray(32, 64)),
    );
    assert.ok(sha(second.subarray(0, CHUNK)).equals(opened.digests.chunks.subarray(0, 32)));
    assert.equal((await catalog.list())[0]!.sha256, opened.info.sha256);
    opened.source.close?.();
    // A new catalog (a restart) reads the new digests, not the cached old ones.
    const again = await folderCatalog(dir, { chunkSize: CHUNK, cacheDir: cache });
    assert.equal((await again.list())[0]!.sha256, sha(second).toString("hex"));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test("20 000 opens of one file share one descriptor, closed when the last stream is released", async () => {
  const { work, dir } = setup();
  try {
    const bytes = randomBytes(2 * CHUNK);
    writeFileSync(join(dir, "f.bin"), bytes);
    const catalog = await folderCatalog(dir, { chunkSize: CHUNK });
    const fds = () => readdirSync("/proc/self/fd").length;
    const baseline = fds();
    const opened = await Promise.all(
      Array.from({ length: 20_000 }, () => catalog.open("f.bin") as Promise<CatalogFile>),
    );
    const during = fds();
    console.log(`descriptors: ${baseline} before, ${during} with 20 000 streams open`);
    assert.equal(catalog.openHandles(), 1);
    assert.ok(during - baseline <= 2, `${during - baseline} descriptors for 20 000 opens`);
    assert.ok(Buffer.from(await opened[19_999]!.source.getChunk(1)).equals(bytes.subarray(CHUNK)));
    for (const file of opened.slice(1)) file.source.close?.();
    assert.equal(catalog.openHandles(), 1);
    opened[0]!.source.close?.();
    opened[0]!.source.close?.(); // a second close of one stream does not release another's
    assert.equal(catalog.openHandles(), 0);
    const reopened = (await catalog.open("f.bin"))!;
    assert.equal(catalog.openHandles(), 1);
    reopened.source.close?.();
    assert.equal(catalog.openHandles(), 0);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
