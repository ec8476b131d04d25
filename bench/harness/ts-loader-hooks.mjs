// Module hooks of `ts-loader.mjs`: `.ts` files outside node_modules are transformed by esbuild
// (ESM, types stripped, no keepNames, no source map) before Node evaluates them.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { transform } from "esbuild";

const tsconfigRaw = { compilerOptions: { verbatimModuleSyntax: true } };

export async function load(url, context, nextLoad) {
  if (!url.startsWith("file:") || !url.endsWith(".ts") || url.includes("/node_modules/")) {
    return nextLoad(url, context);
  }
  const file = fileURLToPath(url);
  const { code } = await transform(await readFile(file, "utf8"), {
    loader: "ts",
    format: "esm",
    target: `node${process.versions.node}`,
    sourcefile: file,
    tsconfigRaw,
  });
  return { format: "module", source: code, shortCircuit: true };
}
