// `ts-loader.mjs` with Ferry's observability compiled out, for the baseline of the
// `observability-cost` bench case: `node --import ./bench/harness/ts-loader-without-observability.mjs
// SCRIPT.ts`. The same esbuild transform, after removing every line by which the connection, client,
// server and request handler reach `src/observability/` (see `without-observability.mjs`).
import { register } from "node:module";

register("./ts-loader-without-observability-hooks.mjs", import.meta.url);
