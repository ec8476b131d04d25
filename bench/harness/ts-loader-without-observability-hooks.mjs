// Module hooks of `ts-loader-without-observability.mjs`: the files listed in
// `without-observability.mjs` lose their instrumentation hooks, then every `.ts` file outside
// node_modules is transformed by esbuild exactly as `ts-loader-hooks.mjs` does.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { transform } from "esbuild";
import { stripObservability } from "./without-observability.mjs";

const tsconfigRaw = { compilerOptions: { verbatimModuleSyntax: true } };

export async function load(url, context, nextLoad) {
  if (!url.startsWith("file:") || !url.endsWith(".ts") || url.includes("/node_modules/")) {
    return nextLoad(url, context);
  }
  const file = fileURLToPath(url);
  const source = stripObservability(file, await readFile(file, "utf8"));
  const { code } = await transform(source, {
    loader: "ts",
    format: "esm",
    target: `node${process.versions.node}`,
    sourcefile: file,
    tsconfigRaw,
  });
  return { format: "module", source: code, shortCircuit: true };
}
