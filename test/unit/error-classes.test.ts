/**
 * Every error class Ferry defines is a `TransportError` (a stable `code` to switch on) and is
 * exported from the package index, so a caller can import and `instanceof` any error it may see.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as ferry from "../../src/mod.ts";
import { RemoteError, ServiceError, TransportError } from "../../src/mod.ts";

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

test("every error class in src/ is a TransportError exported from src/mod.ts", () => {
  const classes = definedErrorClasses();
  console.log(`error classes: ${classes.size}`);
  assert.ok(classes.size >= 17, `found ${classes.size} error classes`);
  const exported = ferry as unknown as Record<string, unknown>;
  const offences: string[] = [];
  for (const [name, file] of classes) {
    const value = exported[name];
    if (typeof value !== "function") {
      offences.push(`${name} (${file}) is not exported from src/mod.ts`);
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

test("the pool's errors are defined in one module and exported from the index", async () => {
  const pool = await import("../../src/pool/pool-errors.ts");
  assert.equal(pool.PoolTimeoutError, ferry.PoolTimeoutError);
  assert.equal(pool.PoolClosedError, ferry.PoolClosedError);
  const timeout = new pool.PoolTimeoutError("no lease within 5 ms", 5);
  assert.equal(timeout.code, "ERR_POOL_TIMEOUT");
  assert.equal(timeout.timeoutMs, 5);
  assert.equal(new pool.PoolClosedError("closed").code, "ERR_POOL_CLOSED");
});
