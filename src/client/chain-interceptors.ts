/**
 * `chainInterceptors`: how several inbound interceptors share a connection's one `interceptor`
 * slot (authentication first, then extensions such as Ferry's responders, then the application's).
 *
 * @module
 */

import type { InboundInterceptor } from "./client-options.ts";

/**
 * Chains interceptors: each sees the message in turn until one consumes it (returns `true`).
 * `undefined` entries are skipped, so optional interceptors can be listed as they are.
 *
 * @example
 * ```ts
 * import { chainInterceptors, type InboundInterceptor, TransportServer } from "ferry-transport";
 * import { ferryResponder } from "ferry-transport/extensions";
 *
 * const logTypes: InboundInterceptor = (message) => {
 *   console.log("message type", message.type);
 *   return false; // not consumed: the next interceptor and then the handler see it
 * };
 * const server = new TransportServer({
 *   rpcHandler: { receive: (_client, body) => body },
 *   interceptor: chainInterceptors(logTypes, ferryResponder),
 * });
 * await server.close();
 * ```
 */
export function chainInterceptors(
  ...interceptors: readonly (InboundInterceptor | undefined)[]
): InboundInterceptor {
  const chain = interceptors.filter((entry): entry is InboundInterceptor => entry !== undefined);
  return (message, client) => {
    for (const interceptor of chain) {
      if (interceptor(message, client)) return true;
    }
    return false;
  };
}
