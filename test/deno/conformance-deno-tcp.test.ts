/**
 * The socket conformance suite on Deno's TCP adapter, each case a `Deno.test` with the resource
 * and op sanitizers on, so they prove nothing (conn, listener, pending read or accept, timer) is left behind.
 */
import { tcpConnect, tcpListen } from "../../adapters/deno/mod.ts";
import { socketConformanceCases } from "../conformance/socket-suite.ts";

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

const cases = socketConformanceCases({
  listen: (options) => tcpListen({ host: "127.0.0.1", port: 0, ...options }),
  connect: (address, options) => tcpConnect({ host: address.host, port: address.port, ...options }),
  // Deno's TCP API cannot send an RST (no SO_LINGER): a reset reaches the peer as its end.
  resetReachesPeer: false,
});

for (const { title, body } of cases) {
  // Sanitizers are opt-in in this Deno: ask for them explicitly.
  Deno.test({
    name: `socket conformance: deno tcp: ${title}`,
    fn: body,
    sanitizeOps: true,
    sanitizeResources: true,
  });
}
