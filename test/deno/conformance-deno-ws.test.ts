/**
 * The socket conformance suite on Deno's WebSocket listener (`Deno.serve`) and Deno's global
 * `WebSocket` as the client, each case a `Deno.test` with the resource and op sanitizers on.
 */
import { webSocketListen } from "../../adapters/deno/mod.ts";
import { webSocketConnect } from "../../adapters/websocket/mod.ts";
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
  listen: (options) => webSocketListen({ host: "127.0.0.1", port: 0, ...options }),
  connect: (address, options) => webSocketConnect({ url: address.url, ...options }),
  // Deno's WebSocket cannot stop reading: paused messages are held, the writer never stalls.
  pausePushesBack: false,
  // Deno.serve's shutdown also closes the WebSockets it upgraded.
  listenerCloseKeepsSockets: false,
});

for (const { title, body } of cases) {
  Deno.test({
    name: `socket conformance: deno ws: ${title}`,
    fn: body,
    sanitizeOps: true,
    sanitizeResources: true,
  });
}
