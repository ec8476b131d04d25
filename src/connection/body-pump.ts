/**
 * Pulls a raw body (the bytes after a StreamResponse / UploadStream frame) from its source and
 * queues it for the socket: only while the socket is writable, checking that the source yields
 * exactly the announced byte count of `Uint8Array` chunks. A source that fails, yields something
 * else or a different count leaves the wire out of sync: the pump rejects (and cancels the source)
 * and the writer closes the connection.
 *
 * @module
 */

import { InvalidArgumentError, ProtocolError } from "../errors.ts";
import { type BodySource, describeValue } from "./body-source.ts";

/** A raw body to write after its frame: exactly `byteLength` bytes from `source`. */
export interface OutboundBody {
  readonly byteLength: number;
  readonly source: BodySource;
  /** Names the body in error messages, e.g. `StreamResponse 'gen:10' body`. */
  readonly what: string;
}

/** What the pump needs from the writer it feeds. */
export interface BodyPumpTarget {
  /** The peer's address, for error messages. */
  readonly peer: string;
  /** The writer closed; the pump stops with {@linkcode BodyPumpTarget.closeError}. */
  readonly closed: boolean;
  readonly closeError: unknown;
  /** The socket is full: wait for {@linkcode BodyPumpTarget.waitForDrain} before more. */
  readonly blocked: boolean;
  /** Queues one chunk of the body for the socket, in order. */
  push(chunk: Uint8Array): void;
  waitForDrain(): Promise<void>;
}

/** Pumps `body` into `target`; resolves once every byte is queued. */
export async function pumpBody(body: OutboundBody, target: BodyPumpTarget): Promise<void> {
  const { source, byteLength, what } = body;
  let sent = 0;
  try {
    for (;;) {
      if (target.closed) throw target.closeError;
      let chunk = source.next();
      if (chunk instanceof Promise) chunk = await chunk;
      if (target.closed) throw target.closeError;
      if (chunk === undefined) break;
      if (!(chunk instanceof Uint8Array)) {
        throw new InvalidArgumentError(
          `Writing ${what} to ${target.peer} failed: its source yielded ` +
            `${describeValue(chunk)} after ${sent} bytes, expected Uint8Array chunks`,
        );
      }
      if (chunk.byteLength === 0) continue;
      if (sent + chunk.byteLength > byteLength) {
        throw new ProtocolError(
          `Writing ${what} to ${target.peer} failed: ${byteLength} bytes were announced ` +
            `but its source yielded at least ${sent + chunk.byteLength}; the stream is out of ` +
            `sync, closing the connection`,
        );
      }
      sent += chunk.byteLength;
      target.push(chunk);
      if (target.blocked) await target.waitForDrain();
    }
    if (sent !== byteLength) {
      throw new ProtocolError(
        `Writing ${what} to ${target.peer} failed: ${byteLength} bytes were announced ` +
          `but its source ended after ${sent}; the stream is out of sync, closing the connection`,
      );
    }
  } catch (error) {
    source.cancel(error);
    throw error;
  }
}
