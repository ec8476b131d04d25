// Module hooks of `ts-loader-observability-variants.mjs`. `resolve` passes the `?without` (or
// `?shipped`, `?again`) query of a repository module on to the repository modules it imports (a
// relative specifier drops the query), so each copy is a whole module graph of its own; `load`
// removes the hooks listed in `without-observability.mjs` from the `?without` copy, then transforms
// every `.ts` file outside node_modules with esbuild exactly as `ts-loader-hooks.mjs` does.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { transform } from "esbuild";
import { stripObservability } from "./without-observability.mjs";

const tsconfigRaw = { compilerOptions: { verbatimModuleSyntax: true } };
const WITHOUT = "?without";
/** Unchanged copies: the one measured against `?without`, and a second (for an A/A run). */
const SHIPPED = "?shipped";
const AGAIN = "?again";
const copyOf = (url) => [WITHOUT, SHIPPED, AGAIN].find((query) => url.endsWith(query));

const inRepository = (url) =>
  url.startsWith("file:") && !url.includes("/node_modules/") && /\.ts(\?|$)/.test(url);

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  const query = copyOf(context.parentURL ?? "");
  if (query !== undefined && inRepository(resolved.url) && !resolved.url.includes("?")) {
    return { ...resolved, url: `${resolved.url}${query}` };
  }
  return resolved;
}

export async function load(url, context, nextLoad) {
  if (!inRepository(url)) return nextLoad(url, context);
  const query = copyOf(url);
  const file = fileURLToPath(query === undefined ? url : url.slice(0, -query.length));
  const text = await readFile(file, "utf8");
  const { code } = await transform(query === WITHOUT ? stripObservability(file, text) : text, {
    loader: "ts",
    format: "esm",
    target: `node${process.versions.node}`,
    sourcefile: file,
    tsconfigRaw,
  });
  return { format: "module", source: code, shortCircuit: true };
}
