/**
 * `ServedRequest`: names one request of the peer that this side may be serving — a chunk fetch by
 * stream id and chunk index, a stream request by stream id — exactly as the protocol matches their
 * replies. Extensions that let a requester withdraw a request (Ferry's cancel, in
 * `src/extensions/`) name it this way when they ask the responder to stop serving it
 * (`TransportClient.cancelServing`).
 *
 * @module
 */

import type { Int64 } from "../protocol/messages.ts";

/** A chunk fetch or a stream request of the peer, named as its reply would name it. */
export type ServedRequest =
  | { readonly kind: "chunk"; readonly streamId: Int64; readonly chunkIndex: number }
  | { readonly kind: "stream"; readonly streamId: string };
