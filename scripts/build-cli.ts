/**
 * Bundles the `ferry` CLI for the installed package with esbuild:
 *
 *     node --import tsx scripts/build-cli.ts [--outdir dist/cli]
 *
 * writes `dist/cli/ferry-bundle.js` (ESM, platform node) and the chunks its commands load on
 * demand (`ferry-bundle-*.js`: `serve`, `bench` and the Deno runtime stay out of `ferry get`), next
 * to the `tsc` output of the same sources, so paths relative to `import.meta.url` (`../web/`) mean
 * the same in both. Two runtime dependencies that every command loads are bundled in:
 * `@opentelemetry/api` and `msgpackr`, CommonJS packages of ~40 files whose loading alone took
 * 60 ms of CPU. The API is built to run as several copies in one process (they meet in one
 * global registry, so `serve --metrics`, whose SDK imports the installed copy, still sees Ferry's
 * instruments). Every other package (`ws`, the optional metrics SDK and exporter, `msgpackr`'s
 * optional native extractor) stays an import of the installed dependency.
 *
 * Why: Node 20 has no compile cache, and loading the ~120 modules of `ferry get` one by one
 * (resolve, read, compile, link) was most of its start-up. Measured on the compiled CLI,
 * `ferry get --help` took 210–250 ms of CPU from `dist/cli/ferry.js`, 170–180 ms bundled with
 * every package external and 110–120 ms with the two bundled in (`node -e 0`: 60 ms), medians of
 * 9 runs; every `ferry get` pays that difference.
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

/** Packages bundled into the CLI (see the module documentation); all others stay imports. */
const BUNDLED_PACKAGES: ReadonlySet<string> = new Set(["@opentelemetry/api", "msgpackr"]);

const onlyListedPackages: Plugin = {
  name: "only-listed-packages",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, ({ path }) => {
      if (path.startsWith("node:")) return { path, external: true };
      const parts = path.split("/");
      const name = path.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
      return BUNDLED_PACKAGES.has(name) ? undefined : { path, external: true };
    });
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
    // CommonJS in a bundled package calls `require` (msgpackr for its optional extractor).
    banner: {
      js: 'import { createRequire as ferryCreateRequire } from "node:module";\n' +
        "const require = ferryCreateRequire(import.meta.url);",
    },
    outdir: out,
    chunkNames: "ferry-bundle-[hash]",
    plugins: [checkoutOnlyBuilder, onlyListedPackages],
    logLevel: "warning",
  });
  return join(out, CLI_BUNDLE_FILE);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf("--outdir");
  const file = await buildCliBundle(at >= 0 ? process.argv[at + 1] : undefined);
  console.log(`built ${file}`);
}
