/**
 * `ferryResponder`: the server side of every Ferry extension in one inbound interceptor — what
 * makes a `TransportServer` a "Ferry peer" that clients may send Ferry control messages to. It
 * answers pings (`ferry-ping.ts`), applies cancels (`ferry-cancel.ts`) and drops chunk trace
 * contexts once the tap has read them (`ferry-trace-context.ts`); every other message goes on to
 * the next interceptor and the application. The core server knows none of these messages: a
 * server without this interceptor hands them to its `RpcHandler`, as a Spark server would.
 *
 * `SharedSecretServer` and `SparkSaslServer` install it behind their gate (`serverOptions`), since
 * a client that authenticated with Ferry's shared secret treats its peer as Ferry; `ferry serve`
 * installs it too.
 *
 * @module
 */

import { chainInterceptors } from "../client/chain-interceptors.ts";
import type { InboundInterceptor } from "../client/client-options.ts";
import { ferryCancelResponder } from "./ferry-cancel.ts";
import { ferryPingResponder } from "./ferry-ping.ts";
import { ferryTraceContextResponder } from "./ferry-trace-context.ts";

/**
 * The server side of Ferry's extensions (ping, cancel, chunk trace context) as one interceptor.
 * Install it as the server's `interceptor`, after an authentication gate when there is one.
 *
 * @example
 * ```ts
 * import { OneForOneStreamManager, TransportServer } from "ferry-transport";
 * import { ferryResponder } from "ferry-transport/extensions";
 * import { tcpListen } from "ferry-transport/node";
 *
 * const server = new TransportServer({
 *   rpcHandler: { receive: (_client, body) => body },
 *   streamManager: new OneForOneStreamManager(),
 *   interceptor: ferryResponder, // pings answered, cancels applied, trace contexts consumed
 * });
 * await server.listen(tcpListen({ host: "127.0.0.1", port: 7337 }));
 * await server.close();
 * ```
 */
export const ferryResponder: InboundInterceptor = chainInterceptors(
  ferryPingResponder,
  ferryCancelResponder,
  ferryTraceContextResponder,
);
