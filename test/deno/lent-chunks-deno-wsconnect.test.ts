/**
 * Lent and owned chunk bodies over `wsConnect` under Deno (Ferry's WebSocket framing over Deno TCP,
 * reading into the decoder's frames) against Deno's WebSocket listener: the shared cases in
 * `test/helpers/lent-chunk-scenarios.ts`, every byte checked, sanitizers on.
 */

import { webSocketListen, wsConnect } from "../../adapters/deno/mod.ts";
import { denoSanitizedTests } from "../helpers/deno-sanitized-test.ts";
import { lentChunkScenarios } from "../helpers/lent-chunk-scenarios.ts";

const scenarios = lentChunkScenarios({
  listen: () => webSocketListen({ host: "127.0.0.1", port: 0 }),
  connect: (port) => wsConnect({ url: `ws://127.0.0.1:${port}/` }),
});

denoSanitizedTests("lent chunks over deno wsConnect", scenarios);
