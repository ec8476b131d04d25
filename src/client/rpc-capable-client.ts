/**
 * `RpcCapableClient`: the least a bootstrap or a liveness check needs of a connection — to send an
 * RPC and name its peer. `TransportClient` satisfies it, and so do test doubles.
 *
 * @module
 */

import type { CallOptions } from "../deadline.ts";

/** What sending an RPC needs from a client. `TransportClient` satisfies it. */
export interface RpcCapableClient {
  sendRpc(body: Uint8Array, options?: CallOptions): Promise<Uint8Array>;
  readonly remoteAddress?: string;
}
