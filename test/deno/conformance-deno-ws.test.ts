/**
 * The socket conformance suite on Deno's WebSocket listener (`Deno.serve`) and Deno's global
 * `WebSocket` as the client, each case a `Deno.test` with the resource and op sanitizers on.
 */
import { webSocketListen } from "../../adapters/deno/mod.ts";
import { webSocketConnect } from "../../adapters/websocket/mod.ts";
import { socketConformanceCases } from "../conformance/socket-suite.ts";
import { denoSanitizedTests } from "../helpers/deno-sanitized-test.ts";

const cases = socketConformanceCases({
  listen: (options) => webSocketListen({ host: "127.0.0.1", port: 0, ...options }),
  connect: (address, options) => webSocketConnect({ url: address.url, ...options }),
  // Deno's WebSocket cannot stop reading: paused messages are held, the writer never stalls.
  pausePushesBack: false,
  // Deno.serve's shutdown also closes the WebSockets it upgraded.
  listenerCloseKeepsSockets: false,
});

denoSanitizedTests("socket conformance: deno ws", cases);
