import { tcpConnect, tcpListen } from "../../adapters/node/mod.ts";
import { runSocketConformance } from "../conformance/socket-suite.ts";

runSocketConformance("node tcp", {
  listen: (options) => tcpListen({ host: "127.0.0.1", port: 0, ...options }),
  connect: (address, options) => tcpConnect({ host: address.host, port: address.port, ...options }),
});
