/**
 * Bundles the `ferry` CLI for the installed package with esbuild:
 *
 *     node --import tsx scripts/build-cli.ts [--outdir dist/cli]
 *
 * writes `dist/cli/ferry-bundle.js` (ESM, platform node) and the chunks its commands load on
 * demand (`ferry-bundle-*.js`: `serve`, `bench` and the Deno runtime stay out of `ferry get`), next
 * to the `tsc` output of the same sources, so paths relative to `import.meta.url` (`../web/`) mean
 * the same in both. Packages (`msgpackr`, `ws`, `@opentelemetry/api`) stay imports of the
 * installed dependencies: one copy of each, as the library uses them.
 *
 * Why: Node 20 has no compile cache, and loading the ~120 modules of `ferry get` one by one
 * (resolve, read, compile, link) was a third of its start-up. Measured on the compiled CLI,
 * `ferry get --help` took 210 ms of CPU from `dist/cli/ferry.js` and 160 ms from the bundle
 * (`node -e 0`: 60 ms), median of 7 runs; every `ferry get` pays that difference.
 *
 * @module
 */

import { build, type Plugin } from "esbuild";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** The bundle's entry file name inside the output directory. */
export const CLI_BUNDLE_FILE = "ferry-bundle.js";

/**
 * The web demo's builder is checkout-only (the package ships the built page, `dist/web/`): the
 * bundle imports it where `tsc` output would, and never carries it or its esbuild import.
 */
const checkoutOnlyBuilder: Plugin = {
  name: "checkout-only-web-demo-builder",
  setup(build) {
    build.onResolve({ filter: /\/web-demo\/build-web-demo\.ts$/ }, () => ({
      path: "../web-demo/build-web-demo.js",
      external: true,
    }));
  },
};

/** Builds the bundle into `outdir` (default `dist/cli`); returns the entry's absolute path. */
export async function buildCliBundle(outdir = "dist/cli"): Promise<string> {
  const out = resolve(root, outdir);
  // Chunk names carry content hashes: an earlier build's chunks would pile up beside these.
  mkdirSync(out, { recursive: true });
  for (const name of readdirSync(out)) {
    if (/^ferry-bundle.*\.js$/.test(name)) rmSync(join(out, name));
  }
  await build({
    absWorkingDir: root,
    entryPoints: { "ferry-bundle": "cli/ferry.ts" },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    outdir: out,
    chunkNames: "ferry-bundle-[hash]",
    plugins: [checkoutOnlyBuilder],
    logLevel: "warning",
  });
  return join(out, CLI_BUNDLE_FILE);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf("--outdir");
  const file = await buildCliBundle(at >= 0 ? process.argv[at + 1] : undefined);
  console.log(`built ${file}`);
}
