/**
 * The `ferry` CLI as a user of the installed package runs it: `dist/cli/ferry-bundle.js`, built by
 * `npm run build` (`tsc -p tsconfig.build.json`, then `scripts/build-cli.ts`, the steps `npm pack`
 * runs), which the package's bin runs. In a checkout the
 * package's bin (`cli/ferry-bin.mjs`) runs the TypeScript sources through tsx instead, whose
 * transpiling adds ~0.3–0.8 s to every process — a cost no installed user pays, and one that
 * would dominate a whole-process benchmark.
 *
 * `compiledCli` builds `dist/` when it is missing or older than any source it is built from, so a
 * figure never belongs to a stale build. A `--quick` smoke run does not build (its figures mean
 * nothing, and the build takes longer than the run): it uses a fresh `dist/` if there is one and
 * the checkout launcher otherwise, and says so.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { buildCliBundle } from "../../scripts/build-cli.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const compiled = join(root, "dist/cli/ferry-bundle.js");
const launcher = join(root, "cli/ferry-bin.mjs");

/** The CLI script to run with `node`, and how it was chosen (for the case's description). */
export interface CliScript {
  readonly path: string;
  readonly compiled: boolean;
}

let chosen: Promise<CliScript> | undefined;

/** `dist/cli/ferry-bundle.js`, built first when stale (see the module documentation). */
export function compiledCli(quick: boolean): Promise<CliScript> {
  chosen ??= choose(quick);
  return chosen;
}

async function choose(quick: boolean): Promise<CliScript> {
  if (isFresh()) return { path: compiled, compiled: true };
  if (quick) {
    console.error(
      "bench: dist/ is missing or older than the sources; --quick runs the CLI through tsx " +
        "(run `npm run build` to measure the compiled CLI)",
    );
    return { path: launcher, compiled: false };
  }
  console.error("bench: building dist/ (npm run build) so ferry runs as installed...");
  await build();
  if (!isFresh()) throw new Error("bench: npm run build left dist/cli/ferry-bundle.js stale");
  return { path: compiled, compiled: true };
}

/** Whether `dist/cli/ferry-bundle.js` is at least as new as every source it is built from. */
function isFresh(): boolean {
  const built = statSync(compiled, { throwIfNoEntry: false });
  if (built === undefined) return false;
  let newest = 0;
  for (const config of ["tsconfig.json", "tsconfig.build.json"]) {
    newest = Math.max(newest, statSync(join(root, config)).mtimeMs);
  }
  for (const folder of ["src", "adapters", "cli"]) newest = Math.max(newest, newestIn(folder));
  return built.mtimeMs >= newest;
}

function newestIn(folder: string): number {
  let newest = 0;
  const entries = readdirSync(join(root, folder), { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
    newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** Runs what `npm run build` runs, with the checkout's own TypeScript and esbuild. */
async function build(): Promise<void> {
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  if (!existsSync(tsc)) throw new Error(`bench: ${tsc} is missing; run npm ci`);
  await new Promise<void>((done, fail) => {
    const child = spawn(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.on("error", fail);
    child.on("close", (code) => code === 0 ? done() : fail(new Error(`tsc exited ${code}`)));
  });
  await buildCliBundle();
}
