/**
 * What the npm package needs at run time. The package ships compiled JavaScript (`dist/`, built
 * by `npm pack`): the library, the CLI and the prebuilt web demo, so no TypeScript runner and no
 * bundler run on a user's machine. Everything the library and the compiled CLI import must
 * therefore be a `dependency`, and those are only what the library itself needs (msgpackr, ws).
 * The import graphs are esbuild's (metafile of a bundle with packages left external). The packed
 * tarball itself is installed and run by `package-install.test.ts`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import process from "node:process";
import { build, type Metafile, type Plugin } from "esbuild";
import { LIBRARY_ENTRIES } from "../../scripts/build-browser.ts";
import { WEB_DEMO_ENTRY } from "../../web-demo/build-web-demo.ts";
import { root } from "../helpers/ferry-cli.ts";

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  private?: boolean;
  bin: Record<string, string>;
  files: string[];
  exports: Record<string, { import: string; types: string; default: string }>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const deno = JSON.parse(readFileSync(join(root, "deno.json"), "utf8")) as {
  name: string;
  version: string;
  exports: Record<string, string>;
  imports: Record<string, string>;
};

/**
 * The module a checkout's `ferry serve` imports to build the page with esbuild when no prebuilt
 * one is beside the CLI; the package has the prebuilt page, so the compiled CLI never loads it.
 */
const CHECKOUT_ONLY_BUILD = /\/web-demo\/build-web-demo\.ts$/;

/**
 * Loaded by `ferry serve --metrics` only, with `import()`, and named in its error when missing:
 * an operator who wants Prometheus installs them beside Ferry; nobody else downloads them.
 */
const OPTIONAL_PACKAGES = ["@opentelemetry/exporter-prometheus", "@opentelemetry/sdk-metrics"];

const leaveOut = (pattern: RegExp): Plugin => ({
  name: "leave-out",
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: pattern }, (args) => ({ path: args.path, external: true }));
  },
});

/** Local files and bare package imports reachable from `entries`. */
async function importGraph(
  entries: readonly string[],
  platform: "node" | "browser",
  plugins: Plugin[] = [],
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
    plugins,
  });
  const metafile: Metafile = result.metafile;
  const packages = new Set<string>();
  for (const input of Object.values(metafile.inputs)) {
    for (const imported of input.imports) {
      if (!imported.external || imported.path.startsWith(".")) continue;
      if (OPTIONAL_PACKAGES.includes(imported.path) && imported.kind === "dynamic-import") continue;
      const path = imported.path.replace(/^node:/, "");
      if (builtinModules.includes(path.split("/")[0]!)) continue;
      const parts = path.split("/");
      packages.add(path.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!);
    }
  }
  return { files: Object.keys(metafile.inputs).sort(), packages: [...packages].sort() };
}

test("the package is publishable and its runtime dependencies are the library's own", () => {
  assert.equal(pkg.private, undefined, "not private");
  // @opentelemetry/api is a no-op until an application registers an SDK (docs/observability.md).
  assert.deepEqual(Object.keys(pkg.dependencies).sort(), ["@opentelemetry/api", "msgpackr", "ws"]);
  for (const optional of OPTIONAL_PACKAGES) {
    assert.ok(pkg.devDependencies[optional] !== undefined, `${optional} is a devDependency`);
  }
  for (const tool of ["tsx", "esbuild", "typescript"]) {
    assert.ok(pkg.devDependencies[tool] !== undefined, `${tool} is a devDependency`);
  }
  assert.equal(pkg.bin.ferry, "cli/ferry-bin.mjs");
  // Compiled output only (plus the bin's launcher): no TypeScript sources in the tarball.
  assert.ok(
    pkg.files.every((entry) => entry.startsWith("dist/") || !/^(src|cli|adapters)$/.test(entry)),
  );
  assert.ok(pkg.files.includes("dist/cli") && pkg.files.includes("dist/web"));
  // ESM, with `default` so that Node's require(esm) (Node ≥ 20.19) can load it too.
  for (const [key, target] of Object.entries(pkg.exports)) {
    assert.match(target.import, /^\.\/dist\/.*\.js$/, key);
    assert.equal(target.default, target.import, `package.json exports["${key}"] needs "default"`);
  }
  assert.deepEqual(Object.keys(pkg.exports).sort(), Object.keys(deno.exports).sort());
});

test("everything the library and the compiled ferry CLI import at run time is a dependency", async () => {
  const entries = [...new Set([...Object.values(deno.exports), "cli/ferry.ts"])];
  const { files, packages } = await importGraph(entries, "node", [leaveOut(CHECKOUT_ONLY_BUILD)]);
  assert.ok(files.includes("cli/serve.ts") && files.includes("cli/runtime-deno.ts"));
  assert.ok(!files.includes("web-demo/build-web-demo.ts"));
  assert.deepEqual(
    packages.filter((name) => pkg.dependencies[name] === undefined),
    [],
    "imported at run time but not in dependencies",
  );
  // The check can fail: with the checkout's build fallback followed, esbuild is reached.
  const withBuild = await importGraph(["cli/ferry.ts"], "node");
  assert.ok(withBuild.packages.includes("esbuild"));
});

test("the web demo bundles only the library's dependencies", async () => {
  const { packages } = await importGraph([...LIBRARY_ENTRIES, WEB_DEMO_ENTRY], "browser");
  assert.deepEqual(
    packages.filter((name) => pkg.dependencies[name] === undefined),
    [],
    "bundled into the page but not in dependencies",
  );
});

test("deno.json maps the package's specifiers to the sources, for every export", () => {
  // The README's Deno script imports "ferry-transport" and "ferry-transport/deno" in a checkout.
  const expected = Object.fromEntries(
    Object.entries(deno.exports).map(([key, source]) => [`ferry-transport${key.slice(1)}`, source]),
  );
  const mapped = Object.fromEntries(
    Object.entries(deno.imports).filter(([key]) => key.startsWith("ferry-transport")),
  );
  assert.deepEqual(mapped, expected, "deno.json imports: one ferry-transport entry per export");
  assert.match(deno.name, /^@[a-z0-9-]+\/[a-z0-9-]+$/, "a JSR name");
  assert.equal(
    deno.version,
    (JSON.parse(readFileSync(join(root, "package.json"), "utf8"))).version,
  );
});

test("deno publish --dry-run accepts the package (offline: no upload, no registry check)", async () => {
  const { stderr, stdout } = await promisify(execFile)(
    join(root, "node_modules/.bin/deno"),
    ["publish", "--dry-run", "--allow-dirty"],
    {
      cwd: root,
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
      env: { ...process.env, NO_COLOR: "1" },
    },
  );
  assert.match(stdout + stderr, /Dry run complete/);
  assert.doesNotMatch(stdout + stderr, /^error/m);
});
