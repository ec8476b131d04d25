// Module hooks of `ts-loader-observability-variants.mjs`. `resolve` passes the `?without` query of
// a repository module on to the repository modules it imports (a relative specifier drops the
// query), so the stripped copy is a whole module graph of its own; `load` removes the hooks listed
// in `without-observability.mjs` from that copy, then transforms every `.ts` file outside
// node_modules with esbuild exactly as `ts-loader-hooks.mjs` does.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { transform } from "esbuild";
import { stripObservability } from "./without-observability.mjs";

const tsconfigRaw = { compilerOptions: { verbatimModuleSyntax: true } };
const WITHOUT = "?without";

const inRepository = (url) =>
  url.startsWith("file:") && !url.includes("/node_modules/") && /\.ts(\?|$)/.test(url);

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  const parent = context.parentURL ?? "";
  if (parent.endsWith(WITHOUT) && inRepository(resolved.url) && !resolved.url.includes("?")) {
    return { ...resolved, url: `${resolved.url}${WITHOUT}` };
  }
  return resolved;
}

export async function load(url, context, nextLoad) {
  if (!inRepository(url)) return nextLoad(url, context);
  const without = url.endsWith(WITHOUT);
  const file = fileURLToPath(without ? url.slice(0, -WITHOUT.length) : url);
  const text = await readFile(file, "utf8");
  const { code } = await transform(without ? stripObservability(file, text) : text, {
    loader: "ts",
    format: "esm",
    target: `node${process.versions.node}`,
    sourcefile: file,
    tsconfigRaw,
  });
  return { format: "module", source: code, shortCircuit: true };
}
