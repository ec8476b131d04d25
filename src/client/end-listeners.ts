/**
 * Who follows the ends of the connections made with one options object (`followEnds`): a
 * `TransportServer` follows thousands of accepted connections with one function. Its own module
 * so that transport-client.ts exports only what the package does (the browser bundle links it).
 *
 * @module
 */

import type { ClientOptions } from "./client-options.ts";
import type { TransportClient } from "./transport-client.ts";

/** What follows the ends of the connections made with one (frozen) options object. */
const endListeners = new WeakMap<ClientOptions, (client: TransportClient) => void>();

/**
 * Calls `listener` as the socket of every client made with `options` (a frozen object naming its
 * `inboundFrameBudget`, as a `TransportServer` makes) has ended, before `client.closed` settles:
 * a server follows thousands of connections with one function instead of a promise callback each.
 * Register before the first client is made.
 */
export function followEnds(
  options: ClientOptions,
  listener: (client: TransportClient) => void,
): void {
  endListeners.set(options, listener);
}

/** The listener `followEnds` registered for `options`, if any. */
export function endListenerOf(
  options: ClientOptions,
): ((client: TransportClient) => void) | undefined {
  return endListeners.get(options);
}
