/**
 * `ferry serve` names the runtime it runs on truthfully: Bun (from npm, running `cli/ferry.ts`
 * itself through the Node adapters) is "bun", Node is "node". Bun's `process.versions.node` made the
 * CLI call it "node" before (issue 22). The Bun server then serves a file to a Node `ferry get`,
 * so the name comes from a server that works.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runFerry, startServe } from "../helpers/ferry-cli.ts";

const work = mkdtempSync(join(tmpdir(), "ferry-cli-runtime-"));
process.env.XDG_CACHE_HOME = join(work, "cache");
const folder = join(work, "folder");
mkdirSync(folder);
writeFileSync(join(folder, "tiny.txt"), "hello from bun");
const PORTS = ["--host", "127.0.0.1", "--port", "0", "--ws-port", "0", "--http-port", "0"];

after(() => rmSync(work, { recursive: true, force: true }));

test("ferry serve under Bun says (runtime: bun) and serves", async () => {
  const serve = await startServe([folder, ...PORTS, "--no-web"], { runtime: "bun" });
  try {
    assert.match(serve.stdout(), /^ferry serve: 1 file from .* \(runtime: bun\)$/m);
    const out = join(work, "tiny.txt");
    const got = await runFerry(["get", `${serve.tcp}tiny.txt`, out, "--connections", "1"]);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(readFileSync(out, "utf8"), "hello from bun");
  } finally {
    const result = await serve.stop();
    assert.equal(result.code, 0, result.stderr);
  }
});

test("ferry serve under Node says (runtime: node)", async () => {
  const serve = await startServe([folder, ...PORTS, "--no-web"]);
  try {
    assert.match(serve.stdout(), /\(runtime: node\)$/m);
  } finally {
    await serve.stop();
  }
});
