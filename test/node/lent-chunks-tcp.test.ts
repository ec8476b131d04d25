/**
 * Lent chunk bodies over real loopback TCP under Node (`adapters/node`): the shared cases in
 * `test/helpers/lent-chunk-scenarios.ts`, each checked to leave no socket or server handle open.
 */

import { test } from "node:test";
import { tcpConnect, tcpListen } from "../../adapters/node/tcp.ts";
import { withoutLeaks } from "../conformance/socket-harness.ts";
import { lentChunkScenarios } from "../helpers/lent-chunk-scenarios.ts";

const scenarios = lentChunkScenarios({
  listen: () => tcpListen({ host: "127.0.0.1", port: 0 }),
  connect: (port) => tcpConnect({ host: "127.0.0.1", port }),
});

for (const { title, body } of scenarios) {
  test(`lent chunks over node tcp: ${title}`, () => withoutLeaks(body));
}
