/**
 * The pool over real loopback TCP under Deno (`adapters/deno`): the shared scenarios in
 * `test/helpers/pool-tcp-scenarios.ts`, each a `Deno.test` with the resource and op sanitizers
 * on, so they prove no conn, listener, pending read or accept, or timer is left behind.
 */

import { tcpConnect, tcpListen } from "../../adapters/deno/mod.ts";
import { poolTcpScenarios } from "../helpers/pool-tcp-scenarios.ts";

/** `Deno.test`, typed locally so Node's type-check passes. */
const Deno = (globalThis as unknown as {
  Deno: {
    test(definition: {
      name: string;
      fn: () => Promise<void>;
      sanitizeOps: boolean;
      sanitizeResources: boolean;
    }): void;
  };
}).Deno;

const scenarios = poolTcpScenarios({
  listen: () => tcpListen({ host: "127.0.0.1", port: 0 }),
  connect: (route) => tcpConnect({ host: route.host, port: route.port }),
});

for (const { title, body } of scenarios) {
  // Sanitizers are opt-in in this Deno: ask for them explicitly.
  Deno.test({
    name: `pool over deno tcp: ${title}`,
    fn: body,
    sanitizeOps: true,
    sanitizeResources: true,
  });
}
