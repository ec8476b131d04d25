/**
 * What `observability-cost-worker.ts` uses of Ferry, in one module so that the worker can load two
 * copies of it: as shipped, and with the query `?without` (through
 * `harness/ts-loader-observability-variants.mjs`) with the instrumentation compiled out.
 *
 * @module
 */

// The adapter entry, as applications import it (it also connects diagnostics_channel).
export { tcpConnect, tcpListen } from "../../adapters/node/mod.ts";
export { TransportClient } from "../../src/client/transport-client.ts";
export { connectionEventOf, tapOf } from "../../src/observability/observe.ts";
export { OneForOneStreamManager } from "../../src/responder/one-for-one-stream-manager.ts";
export { TransportServer } from "../../src/server/transport-server.ts";
