/**
 * Lent bodies: the chunk bodies a `FrameWriter` (frame-writer.ts) writes with `Socket.writeLent`,
 * so that their owner gets the memory back once the socket is done with it.
 *
 * A message sent with a `giveBack` callback lends its body. The body is lent only when it was
 * passed through whole (not copied into the slab or a gather buffer: {@linkcode GATHER_CHUNK_MAX}
 * bytes or more, and the last chunk queued) and the socket offers `writeLent`; `giveBack` then runs
 * once the socket no longer reads the memory (the OS copied it, or it was dropped with the socket).
 * In every other case (copied, the same memory queued twice, the writer closed first, a socket
 * without `writeLent`) `giveBack` never runs and the memory is left to the garbage collector: a
 * body is never given back while anything may still read it.
 *
 * @module
 */

import type { Socket } from "../socket.ts";
import { GATHER_CHUNK_MAX } from "./gathered-writes.ts";

/** Marks memory queued twice: written plainly, never given back. */
const NOT_LENT = (): void => {};

/** The bodies of one writer waiting in its queue to be written with `writeLent`. */
export class LentBodies {
  readonly #bodies = new Map<Uint8Array, () => void>();

  /**
   * Registers `body` (the message's body, if any) when it can be lent: `lastQueued` is the last
   * chunk the writer queued after encoding the message (the body itself when it was passed through).
   */
  static lendable(socket: Socket, body: unknown, lastQueued: unknown): body is Uint8Array {
    return socket.writeLent !== undefined && body instanceof Uint8Array &&
      body.byteLength >= GATHER_CHUNK_MAX && lastQueued === body;
  }

  lend(body: Uint8Array, giveBack: () => void): void {
    const bodies = this.#bodies;
    bodies.set(body, bodies.has(body) ? NOT_LENT : giveBack);
  }

  /**
   * The `giveBack` of `chunk` if it is a lent body about to be written (it leaves the registry),
   * else undefined: write it plainly.
   */
  take(chunk: Uint8Array): (() => void) | undefined {
    const bodies = this.#bodies;
    if (bodies.size === 0) return undefined;
    const giveBack = bodies.get(chunk);
    if (giveBack === undefined) return undefined;
    bodies.delete(chunk);
    return giveBack === NOT_LENT ? undefined : giveBack;
  }
}
