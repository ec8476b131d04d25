/**
 * What a server uses to answer ChunkFetchRequest and StreamRequest — Spark's `StreamManager`.
 * `OneForOneStreamManager` is the implementation Ferry ships.
 *
 * The `owner` passed to every call is the {@linkcode Peer} (at run time the server-side
 * `TransportClient`) of the connection that asked: streams are bound to the connection that
 * registered them, and another connection asking gets the same failure as for an id that never
 * existed.
 *
 * @module
 */

import type { Peer } from "./peer.ts";
import type { Int64 } from "../protocol/messages.ts";

/** A stream's bytes, answered to a StreamRequest: exactly `byteLength` bytes from `body`. */
export interface StreamBody {
  readonly byteLength: number;
  readonly body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** Called once when the transfer ends, completed or not (release resources here). */
  release?(): void;
}

export interface StreamManager {
  /** The bytes of one chunk. Throw (or reject) to send a ChunkFetchFailure with the message. */
  getChunk(streamId: Int64, chunkIndex: number, owner: Peer): Promise<Uint8Array>;
  /** The bytes for a StreamRequest id, or throw to send a StreamFailure with the message. */
  openStream(streamId: string, owner: Peer): Promise<StreamBody>;
  /** The connection `owner` closed: release every stream it owns. */
  connectionTerminated(owner: Peer): void;
  /**
   * Transfer accounting (Spark's hooks). The server calls
   * `chunkBeingSent` once `getChunk` has resolved, just before writing the chunk, and `chunkSent`
   * exactly once for it when the write completed or failed (connection closed included). `client`
   * is the connection writing it, so a manager can drop what a closed connection still counted.
   */
  chunkBeingSent?(streamId: Int64, client?: Peer): void;
  chunkSent?(streamId: Int64, client?: Peer): void;
  /**
   * Optional: `chunk`, which `getChunk` resolved with for `streamId`, has been written and nothing
   * reads it any more (the socket's OS write completed; later than `chunkSent`, which follows the
   * hand-over to the socket), so its memory may be reused. Called at most once per chunk, and only
   * where the socket can tell (`Socket.writeLent`); a chunk never offered back is the garbage
   * collector's.
   */
  recycleChunk?(streamId: Int64, chunk: Uint8Array, client: Peer): void;
  /** Same as the chunk hooks, around the write of a StreamResponse and its body. */
  streamBeingSent?(streamId: string, client?: Peer): void;
  streamSent?(streamId: string, client?: Peer): void;
  /**
   * The peer cancelled its fetch of this chunk (Ferry's cancel extension) after `getChunk` was
   * called and before the reply was written: the chunk will not be sent (whatever `getChunk`
   * resolves with is dropped) and no `chunkBeingSent` / `chunkSent` follows for it. A manager
   * whose streams must be read in order may release the stream: it cannot continue without that
   * chunk.
   */
  chunkCancelled?(streamId: Int64, chunkIndex: number, client: Peer): void;
  /**
   * Chunks and streams being transferred now, on all connections, as counted by the hooks above
   * (for stats; the server applies its own `maxChunksBeingTransferred` budget).
   */
  chunksBeingTransferred?(): number;
}
