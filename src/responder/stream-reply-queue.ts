/**
 * The StreamRequests of one connection, answered in request order (peers match StreamResponse and
 * StreamFailure to their requests FIFO), even when `openStream` settles out of order.
 *
 * - Each request gets a slot at the tail; `openStream` fills it in (a body or an error text).
 * - Settled slots leave from the head: a StreamFailure, or a StreamResponse header and exactly
 *   `byteLength` raw bytes written with backpressure. One body is handed to the connection at a
 *   time: the next reply waits here (not in the frame writer) until the previous body is queued,
 *   so a reply that is still here can be cancelled without touching the wire.
 * - Cancel (Ferry's extension): a slot still here is answered with a StreamFailure when its turn
 *   comes (the peer still expects a reply in that position), its body released at once (or as soon
 *   as `openStream` delivers it) and its transfer budget freed; a body being written is finished
 *   by {@linkcode CancellableBody} (zero padding or a connection reset) and released at once.
 * - The StreamManager's `streamBeingSent` / `streamSent` hooks bracket every body written, and
 *   `StreamBody.release` runs exactly once per body however the transfer ends.
 * - Pulled, not pushed: an accepted request waits in the connection's {@linkcode ReplyGate} as a
 *   small record and `openStream` runs only once the reply window and the server's reply memory
 *   have room; the reply is charged the gate's estimate (its body is then pulled with the socket's
 *   backpressure) until its body is queued for the socket, it failed, or it was cancelled.
 *
 * @module
 */

import { type BodyData, bodySource, describeValue } from "../connection/body-source.ts";
import { describeError } from "../errors.ts";
import { MessageType } from "../protocol/messages.ts";
import { CancellableBody } from "./cancellable-body.ts";
import type { GatedReply } from "./reply-gate.ts";
import type { ReplyHost } from "./reply-host.ts";
import type { StreamBody } from "./stream-manager.ts";

/** One StreamRequest waiting for (or writing) its reply. */
class StreamReply implements GatedReply {
  readonly streamId: string;
  readonly #start: (reply: StreamReply) => void;
  readonly #drop: (reply: StreamReply) => void;
  charged = 0;
  waiting = false;
  /** `openStream` settled (or the request was refused): `body` or `error` is final. */
  settled = false;
  body: StreamBody | undefined = undefined;
  error: string | undefined = undefined;
  /** Holds a transfer budget slot. */
  acquired = false;
  /** The peer cancelled it. */
  cancelled = false;
  /** Its serving count, body and budget were given back. */
  finished = false;
  /** The body being written, once its header went out. */
  outbound: CancellableBody | undefined = undefined;

  constructor(
    streamId: string,
    start: (reply: StreamReply) => void,
    drop: (reply: StreamReply) => void,
  ) {
    this.streamId = streamId;
    this.#start = start;
    this.#drop = drop;
  }

  start(): void {
    this.#start(this);
  }

  drop(): void {
    this.#drop(this);
  }
}

export class StreamReplyQueue {
  readonly #host: ReplyHost;
  readonly #paddingLimit: number;
  #queue: StreamReply[] = [];
  /** The reply whose body is being written. */
  #sending: StreamReply | undefined;
  readonly #startTask = (reply: StreamReply) => this.#openGranted(reply);
  readonly #dropTask = (reply: StreamReply) => {
    // The connection closed before its turn: it never opened; nothing can be sent any more.
    reply.settled = true;
    reply.error = `Connection closed before stream '${reply.streamId}' was opened`;
    this.#finish(reply);
  };

  constructor(host: ReplyHost) {
    this.#host = host;
    this.#paddingLimit = host.budget.serving.maxCancelPaddingBytes;
  }

  /** Replies not yet fully handed to the connection (waiting, or writing their body). */
  get length(): number {
    return this.#queue.length + (this.#sending === undefined ? 0 : 1);
  }

  /** A StreamRequest to serve with the StreamManager. */
  open(streamId: string): void {
    const reply = this.#enqueue(streamId);
    const manager = this.#host.streamManager;
    if (manager === undefined) {
      this.#settle(
        reply,
        undefined,
        `StreamRequest refused: no StreamManager serves this connection`,
      );
      return;
    }
    this.#host.gate.admit(reply);
  }

  /** Its turn came (reply memory charged): takes a transfer slot and opens the stream. */
  #openGranted(reply: StreamReply): void {
    if (reply.cancelled) return;
    const manager = this.#host.streamManager!;
    const streamId = reply.streamId;
    if (!this.#host.budget.tryAcquire()) {
      this.#settle(reply, undefined, this.#host.shed(`stream '${streamId}'`));
      return;
    }
    reply.acquired = true;
    try {
      const result = manager.openStream(streamId, this.#host.client);
      if (isPromiseLike(result)) {
        result.then(
          (body) => this.#settle(reply, body, undefined),
          (error) => this.#settle(reply, undefined, describeError(error)),
        );
      } else {
        this.#settle(reply, result, undefined);
      }
    } catch (error) {
      this.#settle(reply, undefined, describeError(error));
    }
  }

  /** A StreamRequest refused before serving it: a StreamFailure with `error`, in its turn. */
  refuse(streamId: string, error: string): void {
    this.#settle(this.#enqueue(streamId), undefined, error);
  }

  /**
   * The peer cancelled its StreamRequest for `streamId`. Applied only when exactly one reply for
   * that id is outstanding (a cancel carries no position, so with several it cannot tell which).
   * Returns whether it was applied.
   */
  cancel(streamId: string, reason: unknown): boolean {
    let match: StreamReply | undefined;
    let matches = 0;
    const sending = this.#sending;
    if (sending !== undefined && !sending.cancelled && sending.streamId === streamId) {
      match = sending;
      matches++;
    }
    for (const reply of this.#queue) {
      if (!reply.cancelled && reply.streamId === streamId) {
        match = reply;
        matches++;
      }
    }
    if (matches !== 1) return false;
    const reply = match!;
    reply.cancelled = true;
    // Still waiting for room: it never opens, and its failure can go out in its turn.
    if (this.#host.gate.withdraw(reply)) reply.settled = true;
    if (reply === sending) {
      // Its header is on the wire: stop reading the source; the body ends as padding or a reset.
      const body = reply.body;
      reply.body = undefined;
      releaseBody(body);
      reply.outbound!.cancelByPeer(reason);
      return true;
    }
    reply.error = `Stream '${streamId}' was cancelled by the client`;
    this.#finish(reply);
    this.#flush();
    return true;
  }

  #enqueue(streamId: string): StreamReply {
    const reply = new StreamReply(streamId, this.#startTask, this.#dropTask);
    this.#queue.push(reply);
    this.#host.serving(1);
    return reply;
  }

  #settle(reply: StreamReply, body: StreamBody | undefined, error: string | undefined): void {
    reply.settled = true;
    if (reply.cancelled) {
      releaseBody(body); // opened after the peer cancelled: never read
    } else {
      reply.body = body;
      reply.error = error;
    }
    this.#flush();
  }

  /** Sends settled replies from the head, in request order, one body at a time. */
  #flush(): void {
    const queue = this.#queue;
    while (this.#sending === undefined && queue.length > 0 && queue[0]!.settled) {
      const reply = queue.shift()!;
      if (reply.error === undefined) reply.error = this.#send(reply);
      if (reply.error === undefined) continue;
      this.#finish(reply);
      this.#host.connection.send({
        type: MessageType.StreamFailure,
        streamId: reply.streamId,
        error: reply.error,
      });
    }
  }

  /** Starts writing a reply's header and body; returns an error text if it cannot be sent. */
  #send(reply: StreamReply): string | undefined {
    const body = reply.body;
    const byteLength = (body as Partial<StreamBody> | undefined)?.byteLength;
    if (typeof byteLength !== "number" || !Number.isSafeInteger(byteLength) || byteLength < 0) {
      return `StreamManager.openStream returned ${describeValue(body)} with byteLength ` +
        `${String(byteLength)}; expected a StreamBody with a non-negative integer byteLength`;
    }
    const what = `StreamResponse '${reply.streamId}' body`;
    let source;
    try {
      source = bodySource(body!.body as BodyData, what);
    } catch (error) {
      return describeError(error);
    }
    const outbound = new CancellableBody(source, byteLength, this.#paddingLimit, what);
    reply.outbound = outbound;
    this.#sending = reply;
    this.#host.notify("streamBeingSent", reply.streamId);
    const done = () => {
      this.#sending = undefined;
      this.#host.notify("streamSent", reply.streamId);
      this.#finish(reply);
      this.#flush();
    };
    this.#host.connection.sendWithBody(
      { type: MessageType.StreamResponse, streamId: reply.streamId, byteCount: byteLength },
      { byteLength, source: outbound, what },
    ).then(done, done);
    return undefined;
  }

  /** Gives back what a reply held (serving count, body, budget slot). Idempotent. */
  #finish(reply: StreamReply): void {
    if (reply.finished) return;
    reply.finished = true;
    this.#host.serving(-1);
    const body = reply.body;
    reply.body = undefined;
    releaseBody(body);
    if (reply.acquired) {
      reply.acquired = false;
      this.#host.budget.release();
    }
    this.#host.gate.release(reply);
  }
}

function releaseBody(body: StreamBody | undefined): void {
  try {
    body?.release?.();
  } catch {
    // Releasing is best effort; the transfer is over either way.
  }
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
