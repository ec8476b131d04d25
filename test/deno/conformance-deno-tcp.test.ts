/**
 * The socket conformance suite on Deno's TCP adapter, each case a `Deno.test` with the resource
 * and op sanitizers on, so they prove nothing (conn, listener, pending read or accept, timer) is left behind.
 */
import { tcpConnect, tcpListen } from "../../adapters/deno/mod.ts";
import { socketConformanceCases } from "../conformance/socket-suite.ts";
import { denoSanitizedTests } from "../helpers/deno-sanitized-test.ts";

const cases = socketConformanceCases({
  listen: (options) => tcpListen({ host: "127.0.0.1", port: 0, ...options }),
  connect: (address, options) => tcpConnect({ host: address.host, port: address.port, ...options }),
  // Deno's TCP API cannot send an RST (no SO_LINGER): a reset reaches the peer as its end.
  resetReachesPeer: false,
});

denoSanitizedTests("socket conformance: deno tcp", cases);
