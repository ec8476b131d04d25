// `ts-loader.mjs` that can also load a second copy of Ferry with its observability compiled out,
// for the `observability-cost` bench case: `node --import
// ./bench/harness/ts-loader-observability-variants.mjs SCRIPT.ts`. A module imported with the query
// `?without` (and every repository module it imports, which inherit the query) is a separate copy
// whose instrumentation hooks are removed (`without-observability.mjs`); `?shipped` and `?again`
// are unchanged copies, loaded exactly as under `ts-loader.mjs`. So one process can alternate
// between two copies that differ only in the hooks (and neither is the process's own module graph),
// or, in the worker's `a-a` mode, between two identical copies (the noise floor of the method).
import { register } from "node:module";

register("./ts-loader-observability-variants-hooks.mjs", import.meta.url);
