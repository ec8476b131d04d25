import WebSocket from "isomorphic-ws";
import { webSocketListen } from "../../adapters/node/mod.ts";
import { webSocketConnect, type WebSocketConstructor } from "../../adapters/websocket/mod.ts";
import { runSocketConformance } from "../conformance/socket-suite.ts";

// Node 20 has no stable global WebSocket: the client uses the `ws` package's class, through
// isomorphic-ws as a page's code shared with Node would import it.
runSocketConformance("node ws (ws package on both ends, client through isomorphic-ws)", {
  listen: (options) => webSocketListen({ host: "127.0.0.1", port: 0, ...options }),
  connect: (address, options) =>
    webSocketConnect({
      url: address.url,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      ...options,
    }),
});
