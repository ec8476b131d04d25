/**
 * Lent and owned chunk bodies over `wsConnect` (Ferry's own WebSocket framing over Node TCP, whose
 * reads go straight into the decoder's frames) against the `ws` package's server: the shared cases
 * of `test/helpers/lent-chunk-scenarios.ts`, every byte checked, no handle left open.
 */

import { test } from "node:test";
import { webSocketListen, wsConnect } from "../../adapters/node/mod.ts";
import { withoutLeaks } from "../conformance/socket-harness.ts";
import { lentChunkScenarios } from "../helpers/lent-chunk-scenarios.ts";

const scenarios = lentChunkScenarios({
  listen: () => webSocketListen({ host: "127.0.0.1", port: 0 }),
  connect: (port) => wsConnect({ url: `ws://127.0.0.1:${port}/` }),
});

for (const { title, body } of scenarios) {
  test(`lent chunks over node wsConnect: ${title}`, () => withoutLeaks(body));
}
