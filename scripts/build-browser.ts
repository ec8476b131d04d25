/**
 * Builds Ferry for browsers with esbuild, from the same `src/` and `adapters/websocket/` sources
 * Node and Deno run (there is no separate browser copy):
 *
 *     node --import tsx scripts/build-browser.ts [--outdir dist/browser] [--minify]
 *
 * writes `dist/browser/ferry.js` (ESM, platform browser, target es2022) and its source map. The
 * build fails when anything runtime-specific reaches the bundle: a `node:` module, Node's `ws`
 * package, `require(...)`, or a `Deno.` reference.
 *
 * Other modules (test pages, demos) are built with {@linkcode buildBrowserModule} and *linked*
 * against the library bundle: every import of a module the library already contains, and whose
 * exports the library re-exports, becomes an import of `./ferry.js`. The page then runs the
 * shipped bundle itself (one copy of each class, so `instanceof` holds across both files).
 *
 * @module
 */

import { build, type Metafile, type Plugin } from "esbuild";
import { mkdirSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * Modules whose exports make up the browser library, in order: the package's runtime-neutral
 * entries (the root and its subpaths, which pages need: files, the gateway's token bootstrap, the
 * pool) and the WebSocket adapter, all in one file, so a page imports every name from `ferry.js`.
 */
export const LIBRARY_ENTRIES: readonly string[] = [
  "src/mod.ts",
  "src/pool/mod.ts",
  "src/rpc/mod.ts",
  "src/files/mod.ts",
  "src/extensions/mod.ts",
  "src/gateway/mod.ts",
  "src/sasl/mod.ts",
  "src/observability/mod.ts",
  "src/protocol/mod.ts",
  "adapters/websocket/mod.ts",
];

/** File name of the library bundle inside its output directory. */
export const LIBRARY_FILE = "ferry.js";

export interface BrowserBuildOptions {
  /** Output directory, relative to the repository root or absolute. Default `dist/browser`. */
  readonly outdir?: string;
  /** Minify identifiers, syntax and whitespace. Default false. */
  readonly minify?: boolean;
  /** Modules whose exports the library bundle re-exports. Default {@linkcode LIBRARY_ENTRIES}. */
  readonly entries?: readonly string[];
}

export interface BrowserBuild {
  /** Absolute path of the written bundle (its source map is next to it, `.map`). */
  readonly outfile: string;
  readonly bytes: number;
  /** Names the bundle exports. */
  readonly exports: readonly string[];
  /** Source files in the bundle, relative to the repository root. */
  readonly inputs: readonly string[];
}

/** Builds `ferry.js`: the exports of {@linkcode LIBRARY_ENTRIES} as one browser ES module. */
export async function buildBrowserLibrary(
  options: BrowserBuildOptions = {},
): Promise<BrowserBuild> {
  const outfile = join(outputDirectory(options), LIBRARY_FILE);
  const entries = options.entries ?? LIBRARY_ENTRIES;
  for (const entry of entries) requireSource(entry);
  const result = await build({
    ...commonOptions(options),
    stdin: {
      contents: entries.map((entry) => `export * from "./${entry}";\n`).join(""),
      resolveDir: root,
      sourcefile: "ferry-browser-entry.ts",
      loader: "ts",
    },
    outfile,
  });
  return describeOutput(result.metafile, outfile);
}

/**
 * Builds `entry` (relative to the repository root) into `outfile` for the browser, linked against
 * `library` (see the module doc), which must be in the same directory.
 */
export async function buildBrowserModule(
  entry: string,
  outfile: string,
  library: BrowserBuild,
  options: Pick<BrowserBuildOptions, "minify"> = {},
): Promise<BrowserBuild> {
  const absoluteOutfile = resolve(root, outfile);
  if (dirname(absoluteOutfile) !== dirname(library.outfile)) {
    throw new Error(
      `Cannot link ${outfile} against ${library.outfile}: the two bundles must share a ` +
        `directory so that "./${basename(library.outfile)}" resolves`,
    );
  }
  requireSource(entry);
  const result = await build({
    ...commonOptions(options),
    entryPoints: [join(root, entry)],
    outfile: absoluteOutfile,
    plugins: [linkAgainstLibrary(library)],
  });
  return describeOutput(result.metafile, absoluteOutfile);
}

function commonOptions(options: Pick<BrowserBuildOptions, "minify">) {
  return {
    absWorkingDir: root,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    sourcemap: "linked",
    minify: options.minify ?? false,
    metafile: true,
    write: true,
    logLevel: "silent",
    legalComments: "none",
  } as const;
}

function outputDirectory(options: BrowserBuildOptions): string {
  const dir = resolve(root, options.outdir ?? "dist/browser");
  mkdirSync(dir, { recursive: true });
  return dir;
}

function requireSource(path: string): void {
  try {
    statSync(join(root, path));
  } catch {
    throw new Error(`Cannot build for the browser: the entry ${path} does not exist`);
  }
}

/** Reads the bundle's facts from the metafile and rejects runtime-specific content. */
async function describeOutput(metafile: Metafile, outfile: string): Promise<BrowserBuild> {
  const key = relative(root, outfile);
  const output = metafile.outputs[key];
  if (output === undefined) throw new Error(`esbuild reported no output for ${key}`);
  const inputs = Object.keys(output.inputs);
  const text = await readFile(outfile, "utf8");
  const offences = runtimeReferences(text, inputs, metafile);
  if (offences.length > 0) {
    throw new Error(
      `The browser bundle ${key} contains runtime-specific code:\n  ${offences.join("\n  ")}`,
    );
  }
  return { outfile, bytes: output.bytes, exports: output.exports, inputs };
}

/** What in a bundle would not run in a browser, one line per finding. */
export function runtimeReferences(text: string, inputs: readonly string[], metafile: Metafile) {
  const offences: string[] = [];
  for (const input of inputs) {
    if (/(^|\/)node_modules\/ws\//.test(input)) offences.push(`Node's ws package: ${input}`);
  }
  for (const [file, info] of Object.entries(metafile.inputs)) {
    for (const imported of info.imports) {
      if (
        imported.path.startsWith("node:") || imported.external && !imported.path.startsWith(".")
      ) {
        offences.push(`${file} imports ${imported.path}`);
      }
    }
  }
  const code = text.replace(/\/\/# sourceMappingURL=.*$/m, "");
  for (
    const [pattern, what] of [
      [/\bfrom\s*["']node:[^"']*["']|\bimport\s*\(\s*["']node:/g, "a node: import"],
      [/\brequire\s*\(/g, "require()"],
      [/\bDeno\s*\.\s*[A-Za-z_$]/g, "a Deno. reference"],
    ] as const
  ) {
    for (const match of code.matchAll(pattern)) {
      const at = match.index ?? 0;
      offences.push(`${what} at offset ${at}: ${JSON.stringify(code.slice(at, at + 60))}`);
    }
  }
  return offences;
}

/**
 * Turns imports of library-contained modules into imports of the library bundle. A module is
 * linked only when every name it exports is also exported by the library (so the import is
 * satisfied by the very same binding); anything else is bundled into the module as usual.
 */
function linkAgainstLibrary(library: BrowserBuild): Plugin {
  const libraryInputs = new Set(library.inputs);
  const libraryExports = new Set(library.exports);
  const specifier = `./${basename(library.outfile)}`;
  const linkable = new Map<string, Promise<boolean>>();
  const isLinkable = (path: string) => {
    let answer = linkable.get(path);
    if (answer === undefined) {
      answer = exportsOf(path).then((names) => names.every((name) => libraryExports.has(name)));
      linkable.set(path, answer);
    }
    return answer;
  };
  return {
    name: "link-against-ferry-library",
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /^\.\.?\// }, async (args) => {
        if (args.kind !== "import-statement" && args.kind !== "dynamic-import") return undefined;
        const absolute = resolve(args.resolveDir, args.path);
        const path = relative(root, absolute);
        if (isAbsolute(path) || !libraryInputs.has(path)) return undefined;
        return (await isLinkable(path)) ? { path: specifier, external: true } : undefined;
      });
    },
  };
}

/** The names a source module exports, as esbuild sees them. */
async function exportsOf(path: string): Promise<string[]> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [join(root, path)],
    bundle: true,
    format: "esm",
    platform: "browser",
    write: false,
    metafile: true,
    outfile: "exports-probe.js",
    logLevel: "silent",
  });
  return Object.values(result.metafile.outputs).flatMap((output) => output.exports);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const outdirIndex = args.indexOf("--outdir");
  const outdir = outdirIndex >= 0 ? args[outdirIndex + 1] : undefined;
  const unknown = args.filter((arg, i) =>
    arg !== "--minify" && arg !== "--outdir" && !(outdirIndex >= 0 && i === outdirIndex + 1)
  );
  if (unknown.length > 0 || (outdirIndex >= 0 && outdir === undefined)) {
    console.error(`usage: build-browser [--outdir <dir>] [--minify] (got ${JSON.stringify(args)})`);
    process.exit(2);
  }
  const library = await buildBrowserLibrary({ outdir, minify: args.includes("--minify") });
  console.log(
    `${relative(process.cwd(), library.outfile)}: ${library.bytes} bytes, ` +
      `${library.exports.length} exports, ${library.inputs.length} source files`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
