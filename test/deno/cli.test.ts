/**
 * The `ferry` CLI under Deno (`deno run -A cli/ferry.ts`): serve on Deno's listeners and gateway,
 * get over TCP and through the gateway with Deno's own WebSocket, byte-identical and verified;
 * and a missing file exits 1 with the service's message.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFerry, startServe } from "../helpers/ferry-cli.ts";

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

test("ferry serve and ferry get under Deno: TCP and the gateway", async () => {
  const work = mkdtempSync(join(tmpdir(), "ferry-cli-deno-"));
  const demoDir = join(work, "demo");
  const serve = await startServe([
    "--port",
    "0",
    "--ws-port",
    "0",
    "--http-port",
    "0",
    "--demo-size",
    "1M",
    "--chunk-size",
    "64k",
    "--demo-dir",
    demoDir,
    "--no-web",
  ], { runtime: "deno" });
  try {
    assert.match(serve.stdout(), /runtime: deno/);
    const source = sha256(join(demoDir, "files", "medium.bin"));
    for (const [label, base] of [["tcp", serve.tcp], ["gateway", serve.gateway]] as const) {
      const out = join(work, `${label}.bin`);
      const result = await runFerry(["get", `${base}medium.bin`, out, "--progress", "none"], {
        runtime: "deno",
      });
      assert.equal(result.code, 0, `${label}: ${result.stderr}`);
      assert.equal(sha256(out), source, label);
      assert.match(result.stdout, /verified/);
    }
    const missing = await runFerry(["get", `${serve.tcp}absent.bin`, join(work, "absent.bin")], {
      runtime: "deno",
    });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no file "absent\.bin"/);
  } finally {
    const stopped = await serve.stop();
    rmSync(work, { recursive: true, force: true });
    // Deno's node:child_process reports the signal it sent (code null) even when the child
    // handled it and exited 0, so the graceful stop is checked by what serve printed.
    assert.match(stopped.stderr, /ferry serve: stopping/);
  }
});
