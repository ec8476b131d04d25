import type { Connect, SocketListener } from "../../src/socket.ts";
import { type MemoryNetwork, memoryNetwork } from "../helpers/memory-socket.ts";
import { type PairOptions, runSocketConformance } from "../conformance/socket-suite.ts";

// Each listen gets its own network; connect finds it again by the listener's URL.
const networks = new Map<string, MemoryNetwork>();
let nextLabel = 0;

runSocketConformance("memory", {
  listen: (options: PairOptions) => async (onSocket) => {
    const network = memoryNetwork({ ...options, label: `conformance-${++nextLabel}` });
    const listener = await network.listen(onSocket);
    networks.set(listener.address.url, network);
    return listener;
  },
  connect: (address: SocketListener["address"]): Connect => (options) => {
    const network = networks.get(address.url);
    if (network === undefined) throw new Error(`no memory network at ${address.url}`);
    return network.connect(options);
  },
});
