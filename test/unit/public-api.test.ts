/**
 * The package's root entry stays small enough to hold in one's head: its exported values are
 * counted against a budget, and names that only `src/` itself uses (internals) are exported from
 * no public entry. The larger parts have subpaths (`ferry-transport/pool`, `/rpc`, …), declared
 * in package.json and deno.json in step (test/node/package-contents.test.ts checks the two match).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as ferry from "../../src/mod.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Values the root entry may export; raising it needs a reason in the commit that does. */
const ROOT_VALUE_BUDGET = 40;

/** Used nowhere outside `src/`: implementation details no entry exports. */
const INTERNAL_NAMES = [
  "RPC_PACKR_OPTIONS",
  "SERVICE_REQUEST_MAGIC",
  "systemClock",
  "isRequest",
  "isServiceRequest",
  "isRetryableIoError",
  "serviceRefusal",
  "firstLine",
  "listenWithSaslLayer",
  "checkChunkDigests",
  "checkFileInfo",
  "GatewayControlKind",
  "FERRY_PEER_FEATURE",
  "SPARK_MAX_FRAME_LENGTH",
  "MIN_SECRET_LENGTH",
];

/** The runtime-neutral entries of deno.json's `exports`: subpath → source file. */
function sourceEntries(): [string, string][] {
  const deno = JSON.parse(readFileSync(join(root, "deno.json"), "utf8")) as {
    exports: Record<string, string>;
  };
  return Object.entries(deno.exports).filter(([, path]) => path.startsWith("./src/"));
}

test("the root entry exports at most the budgeted number of values", () => {
  const names = Object.keys(ferry).sort();
  console.log(`ferry-transport exports ${names.length} values: ${names.join(" ")}`);
  assert.ok(names.length <= ROOT_VALUE_BUDGET, `${names.length} > ${ROOT_VALUE_BUDGET}`);
  // The core a reader needs first is there.
  for (const name of ["TransportClient", "TransportServer", "TransportError", "defaultLimits"]) {
    assert.ok(names.includes(name), `${name} is exported from the root`);
  }
});

test("the larger parts have subpaths, and no public entry exports an internal name", async () => {
  const entries = sourceEntries();
  const subpaths = entries.map(([subpath]) => subpath).sort();
  for (const part of ["./pool", "./gateway", "./rpc", "./files"]) {
    assert.ok(subpaths.includes(part), `deno.json exports ${part}`);
  }
  const offences: string[] = [];
  for (const [subpath, path] of entries) {
    const module = await import(pathToFileURL(join(root, path)).href) as Record<string, unknown>;
    const names = Object.keys(module);
    console.log(`${subpath}: ${names.length} values`);
    assert.ok(names.length > 0, `${subpath} exports something`);
    for (const name of INTERNAL_NAMES) {
      if (name in module) offences.push(`${subpath} exports ${name}`);
    }
  }
  assert.deepEqual(offences, []);
});

test("the check sees an internal name when an entry exports one", async () => {
  // The internal names still exist where they are defined (so the check above is not vacuous).
  const envelope = await import("../../src/rpc/rpc-envelope.ts");
  assert.ok("SERVICE_REQUEST_MAGIC" in envelope);
  const clock = await import("../../src/clock.ts");
  assert.ok("systemClock" in clock);
});
