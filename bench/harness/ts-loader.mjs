// Loads the repository's TypeScript as plain compiled JavaScript for the bench's child processes:
// `node --import ./bench/harness/ts-loader.mjs SCRIPT.ts`. Each `.ts` file outside node_modules is
// transformed on its own by esbuild (types stripped, nothing else), like the `tsc` build in
// `dist/` that library users import. tsx is not used here because it compiles with esbuild's
// `keepNames`: every function expression is wrapped in `__name(fn, "…")`, which redefines its
// `name` and gives each closure a 256-byte property dictionary of its own — in a Ferry server under
// tsx that was about 9 KB of 18 KB of heap per idle connection, plus a call per closure made.
import { register } from "node:module";

register("./ts-loader-hooks.mjs", import.meta.url);
