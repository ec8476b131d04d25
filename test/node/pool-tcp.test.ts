/**
 * The pool over real loopback TCP under Node (`adapters/node`): the shared scenarios in
 * `test/helpers/pool-tcp-scenarios.ts`, each checked to leave no socket or server handle open.
 */

import { test } from "node:test";
import { tcpConnect, tcpListen } from "../../adapters/node/tcp.ts";
import { withoutLeaks } from "../conformance/socket-harness.ts";
import { poolTcpScenarios } from "../helpers/pool-tcp-scenarios.ts";

const scenarios = poolTcpScenarios({
  listen: () => tcpListen({ host: "127.0.0.1", port: 0 }),
  connect: (route) => tcpConnect({ host: route.host, port: route.port }),
});

for (const { title, body } of scenarios) {
  test(`pool over node tcp: ${title}`, () => withoutLeaks(body));
}
