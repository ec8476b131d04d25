/**
 * The socket conformance suite on Deno with `wsConnect` (Ferry's own WebSocket framing over Deno
 * TCP) as the client and Deno's WebSocket listener (`Deno.serve`) as the server, each case a
 * `Deno.test` with the resource and op sanitizers on.
 */
import { webSocketListen, wsConnect } from "../../adapters/deno/mod.ts";
import { socketConformanceCases } from "../conformance/socket-suite.ts";
import { denoSanitizedTests } from "../helpers/deno-sanitized-test.ts";

const cases = socketConformanceCases({
  listen: (options) => webSocketListen({ host: "127.0.0.1", port: 0, ...options }),
  connect: (address, options) => wsConnect({ url: address.url, ...options }),
  // Deno's server-side WebSocket cannot stop reading: paused messages are held there.
  pausePushesBack: false,
  // Deno.serve's shutdown also closes the WebSockets it upgraded.
  listenerCloseKeepsSockets: false,
});

denoSanitizedTests("socket conformance: deno wsConnect", cases);
