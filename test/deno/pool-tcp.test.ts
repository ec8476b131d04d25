/**
 * The pool over real loopback TCP under Deno (`adapters/deno`): the shared scenarios in
 * `test/helpers/pool-tcp-scenarios.ts`, each a `Deno.test` with the resource and op sanitizers
 * on, so they prove no conn, listener, pending read or accept, or timer is left behind.
 */

import { tcpConnect, tcpListen } from "../../adapters/deno/mod.ts";
import { poolTcpScenarios } from "../helpers/pool-tcp-scenarios.ts";
import { denoSanitizedTests } from "../helpers/deno-sanitized-test.ts";

const scenarios = poolTcpScenarios({
  listen: () => tcpListen({ host: "127.0.0.1", port: 0 }),
  connect: (route) => tcpConnect({ host: route.host, port: route.port }),
});

denoSanitizedTests("pool over deno tcp", scenarios);
