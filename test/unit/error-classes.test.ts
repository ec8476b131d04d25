/**
 * Every error class Ferry defines is a `TransportError` (a stable `code` to switch on) and is
 * exported from a public entry of the package (the root, `src/mod.ts`, or the subpath of its part,
 * e.g. `ferry-transport/pool`), so a caller can import and `instanceof` any error it may see.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pathToFileURL } from "node:url";
import * as ferry from "../../src/mod.ts";
import { RemoteError, TransportError } from "../../src/mod.ts";
import * as pool from "../../src/pool/mod.ts";
import { ServiceError } from "../../src/rpc/mod.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

function tsFiles(dir: string): string[] {
  if (!existsSync(join(root, dir))) return [];
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const rel = `${dir}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) out.push(...tsFiles(rel));
    else if (name.endsWith(".ts")) out.push(rel);
  }
  return out;
}

/** `export class XError extends Y` in src/, by name, with the file that defines it. */
function definedErrorClasses(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of tsFiles("src")) {
    const text = readFileSync(join(root, file), "utf8");
    for (const match of text.matchAll(/export class (\w+Error) extends \w+/g)) {
      found.set(match[1]!, file);
    }
  }
  return found;
}

/** Every name the package's runtime-neutral entries (deno.json `exports` under src/) export. */
async function publicExports(): Promise<Record<string, unknown>> {
  const deno = JSON.parse(readFileSync(join(root, "deno.json"), "utf8")) as {
    exports: Record<string, string>;
  };
  const entries = Object.values(deno.exports).filter((path) => path.startsWith("./src/"));
  assert.ok(entries.length >= 5, `deno.json exports ${entries.length} src entries`);
  const exported: Record<string, unknown> = {};
  for (const entry of entries) {
    Object.assign(exported, await import(pathToFileURL(join(root, entry)).href));
  }
  return exported;
}

test("every error class in src/ is a TransportError exported from a public entry", async () => {
  const classes = definedErrorClasses();
  console.log(`error classes: ${classes.size}`);
  assert.ok(classes.size >= 17, `found ${classes.size} error classes`);
  const exported = await publicExports();
  const offences: string[] = [];
  for (const [name, file] of classes) {
    const value = exported[name];
    if (typeof value !== "function") {
      offences.push(`${name} (${file}) is not exported from a public entry`);
    } else if (
      value !== TransportError && !(value.prototype instanceof TransportError)
    ) {
      offences.push(`${name} (${file}) is not a TransportError`);
    }
  }
  assert.deepEqual(offences, []);
});

test("each layer defines its errors in one file", () => {
  const filesByLayer = new Map<string, Set<string>>();
  for (const file of definedErrorClasses().values()) {
    const layer = /^src\/([^/]+)\//.exec(file)?.[1] ?? "(root)";
    if (!filesByLayer.has(layer)) filesByLayer.set(layer, new Set());
    filesByLayer.get(layer)!.add(file);
  }
  console.log(
    [...filesByLayer].map(([layer, files]) => `${layer}: ${[...files].join(", ")}`).join("\n"),
  );
  const scattered = [...filesByLayer].filter(([, files]) => files.size > 1);
  assert.deepEqual(scattered, []);
});

test("a ServiceError is a TransportError (ERR_SERVICE) carrying the implementation's code", () => {
  const cause = new Error("disk gone");
  const error = new ServiceError("E_NO_NOTE", "no note 7", { cause });
  assert.ok(error instanceof TransportError);
  assert.equal(error.code, "ERR_SERVICE");
  assert.equal(error.serviceCode, "E_NO_NOTE");
  assert.equal(error.message, "no note 7");
  assert.equal(error.cause, cause);
  assert.equal(error.name, "ServiceError");
  assert.ok(!(error instanceof RemoteError));
  assert.throws(
    () => new ServiceError("", "empty code"),
    (thrown: unknown) => thrown instanceof TransportError && thrown.code === "ERR_INVALID_ARGUMENT",
  );
});

test("the pool's errors are defined in one module and exported from its entry", async () => {
  const errors = await import("../../src/pool/pool-errors.ts");
  assert.equal(errors.PoolTimeoutError, pool.PoolTimeoutError);
  assert.equal(errors.PoolClosedError, pool.PoolClosedError);
  assert.equal((ferry as Record<string, unknown>).PoolTimeoutError, undefined);
  const timeout = new errors.PoolTimeoutError("no lease within 5 ms", 5);
  assert.equal(timeout.code, "ERR_POOL_TIMEOUT");
  assert.equal(timeout.timeoutMs, 5);
  assert.equal(new errors.PoolClosedError("closed").code, "ERR_POOL_CLOSED");
});
