/**
 * What a WebSocket listener's `allowUpgrade` hook sees of an upgrade request (Node and Deno).
 * Shared by the runtimes, so it lives beside them, like `tcp-options.ts`.
 *
 * @module
 */

/** An HTTP request asking to become a WebSocket. */
export interface UpgradeRequest {
  /** Request target, e.g. `/ferry?token=…`. */
  readonly url: string;
  /** The `Origin` header, if any (browsers always send it). */
  readonly origin: string | undefined;
  /** Request headers, names in lower case. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** `host:port` of the client. */
  readonly remoteAddress: string;
}
