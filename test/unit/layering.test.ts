/**
 * Keeps the layers honest: `src/` is runtime-neutral and depends only downward; package.json and
 * deno.json export the same entry points.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

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

const importPattern = /(?:^|\n)\s*(?:import|export)[^;]*?from\s*["']([^"']+)["']/g;

test("src/ never reaches for a runtime or an upper layer", () => {
  const offences: string[] = [];
  for (const file of tsFiles("src")) {
    const text = readFileSync(join(root, file), "utf8");
    for (const match of text.matchAll(importPattern)) {
      const spec = match[1]!;
      if (spec.startsWith("node:") || spec === "ws" || spec === "isomorphic-ws") {
        offences.push(`${file} imports ${spec}`);
      }
      if (/(^|\/)(adapters|web-demo|interop|test|bench)\//.test(spec)) {
        offences.push(`${file} imports ${spec}`);
      }
      if (spec.startsWith(".") && !spec.endsWith(".ts")) {
        offences.push(`${file} imports ${spec} without its .ts suffix`);
      }
    }
    if (
      /\bDeno\.|\brequire\(|\bprocess\.|\bBuffer\./.test(
        text.replace(/\/\/.*|\/\*[\s\S]*?\*\//g, ""),
      )
    ) {
      offences.push(`${file} uses a runtime global (Deno, require, process or Buffer)`);
    }
  }
  assert.deepEqual(offences, []);
});

/** Layers below the pool: they may not import it (nor anything above it). */
const belowPool = [
  "src/protocol/",
  "src/connection/",
  "src/client/",
  "src/server/",
  "src/cancel/ferry-cancel-message.ts",
];
/** Layers above the pool and the client: never imported from below them. */
const abovePool = ["pool", "rpc", "gateway", "files", "liveness", "auth"];

test("the protocol, connection, client and server layers never import the pool or anything above", () => {
  const offences: string[] = [];
  for (const file of tsFiles("src")) {
    if (!belowPool.some((prefix) => file.startsWith(prefix))) continue;
    const text = readFileSync(join(root, file), "utf8");
    for (const match of text.matchAll(importPattern)) {
      const spec = match[1]!;
      const target = join(file, "..", spec).replaceAll("\\", "/");
      const layer = /^src\/([^/]+)\//.exec(target)?.[1];
      if (layer !== undefined && abovePool.includes(layer)) {
        offences.push(`${file} imports ${spec}`);
      }
      // The server's contracts name the connection handle (`TransportClient`, as Spark's
      // `RpcHandler` does); the protocol and connection layers know nothing of clients.
      if (layer === "client" && !/^src\/(server|client)\//.test(file)) {
        offences.push(`${file} imports ${spec}`);
      }
    }
  }
  assert.deepEqual(offences, []);
});

test("adapters/ import nothing from each other except through src/", () => {
  const offences: string[] = [];
  for (const file of tsFiles("adapters")) {
    const runtime = file.split("/")[1];
    const text = readFileSync(join(root, file), "utf8");
    for (const match of text.matchAll(importPattern)) {
      const spec = match[1]!;
      const other = /adapters\/([^/]+)\//.exec(spec)?.[1] ?? /^\.\.\/([^/.]+)\//.exec(spec)?.[1];
      if (other && other !== runtime && other !== "src" && other !== "..") {
        offences.push(`${file} imports ${spec}`);
      }
    }
  }
  assert.deepEqual(offences, []);
});

test("package.json and deno.json export the same entry points", () => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const deno = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
  const denoExports = deno.exports as Record<string, string>;
  const pkgExports = pkg.exports as Record<string, { types: string; import: string }>;
  assert.deepEqual(Object.keys(pkgExports).sort(), Object.keys(denoExports).sort());
  // Every adapter a user imports is an entry point (a Worker needs `./wintertc` to use
  // `winterTcConnect` without bundling Ferry's sources).
  for (const entry of [".", "./node", "./deno", "./websocket", "./wintertc"]) {
    assert.ok(entry in denoExports, `deno.json exports ${entry}`);
  }
  for (const [key, source] of Object.entries(denoExports)) {
    const built = source.replace(/^\.\//, "./dist/").replace(/\.ts$/, ".js");
    assert.equal(pkgExports[key]!.import, built, `package.json exports["${key}"].import`);
    assert.equal(
      pkgExports[key]!.types,
      built.replace(/\.js$/, ".d.ts"),
      `package.json exports["${key}"].types`,
    );
    assert.ok(statSync(join(root, source)).isFile(), `${source} exists`);
  }
});
