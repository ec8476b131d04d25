import { webSocketListen, wsConnect } from "../../adapters/node/mod.ts";
import { runSocketConformance } from "../conformance/socket-suite.ts";

// Ferry's own WebSocket client (RFC 6455 framing over Node TCP) against the `ws` package's server.
runSocketConformance("node wsConnect (Ferry's framing over TCP, ws package server)", {
  listen: (options) => webSocketListen({ host: "127.0.0.1", port: 0, ...options }),
  connect: (address, options) => wsConnect({ url: address.url, ...options }),
});
