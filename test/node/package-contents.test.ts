/**
 * The npm package runs `ferry serve`: everything the `ferry` bin loads (through tsx, at run time)
 * and everything `ferry serve` bundles for the web demo (with esbuild, at run time) is in the
 * packed file list, and every package they import is a dependency, not a devDependency. The file
 * list is npm's own (`npm pack --dry-run --json`, scripts skipped so the tree is not rebuilt);
 * the import graphs are esbuild's (metafile of a bundle with packages left external).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import process from "node:process";
import { promisify } from "node:util";
import { build, type Metafile } from "esbuild";
import { LIBRARY_ENTRIES } from "../../scripts/build-browser.ts";
import { WEB_DEMO_ENTRY, WEB_DEMO_STATIC_FILES } from "../../web-demo/build-web-demo.ts";
import { root } from "../helpers/ferry-cli.ts";

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

let packed: Promise<Set<string>> | undefined;
/** The files `npm pack` would put in the tarball. */
function packedFiles(): Promise<Set<string>> {
  return packed ??= (async () => {
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const { stdout } = await promisify(execFile)(
      npm,
      ["pack", "--dry-run", "--json", "--ignore-scripts"],
      { cwd: root, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
    );
    const [report] = JSON.parse(stdout) as { files: { path: string }[] }[];
    return new Set(report!.files.map((file) => file.path));
  })();
}

/** Local files and bare package imports reachable from `entries`. */
async function importGraph(
  entries: readonly string[],
  platform: "node" | "browser",
): Promise<{ files: string[]; packages: string[] }> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: entries.map((entry) => join(root, entry)),
    bundle: true,
    write: false,
    outdir: "out",
    format: "esm",
    platform,
    packages: "external",
    metafile: true,
    logLevel: "silent",
  });
  const metafile: Metafile = result.metafile;
  const packages = new Set<string>();
  for (const input of Object.values(metafile.inputs)) {
    for (const imported of input.imports) {
      if (!imported.external) continue;
      const path = imported.path.replace(/^node:/, "");
      if (builtinModules.includes(path.split("/")[0]!)) continue;
      const parts = path.split("/");
      packages.add(path.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!);
    }
  }
  return { files: Object.keys(metafile.inputs).sort(), packages: [...packages].sort() };
}

test("every file the ferry bin loads is packed, and every package it imports is a dependency", async () => {
  const bin = pkg.bin.ferry!;
  const { files, packages } = await importGraph([bin], "node");
  assert.ok(files.includes("cli/serve.ts") && files.includes("web-demo/build-web-demo.ts"));
  assert.ok(files.includes("cli/runtime-deno.ts"), "dynamic imports are followed");
  const inPackage = await packedFiles();
  assert.deepEqual(files.filter((file) => !inPackage.has(file)), [], "missing from the package");
  assert.deepEqual(
    packages.filter((name) => pkg.dependencies[name] === undefined),
    [],
    "imported at run time but not in dependencies",
  );
  assert.ok(packages.includes("tsx") && packages.includes("esbuild"));
});

test("everything ferry serve bundles for the web demo is packed", async () => {
  const { files, packages } = await importGraph([...LIBRARY_ENTRIES, WEB_DEMO_ENTRY], "browser");
  const inPackage = await packedFiles();
  const needed = [...files, ...WEB_DEMO_STATIC_FILES.map((file) => `web-demo/${file}`)];
  assert.deepEqual(needed.filter((file) => !inPackage.has(file)), [], "missing from the package");
  assert.deepEqual(
    packages.filter((name) => pkg.dependencies[name] === undefined),
    [],
    "bundled into the page but not in dependencies",
  );
});
