/**
 * Fixtures for the protocol engine tests: a client and a server over an in-memory socket pair, a
 * socket wrapper that records what the engine does to its socket, and a raw protocol peer (codec
 * only, no engine) that can act like any Spark peer — including a broken one.
 */

import { TransportClient } from "../../src/client/transport-client.ts";
import type { ClientOptions } from "../../src/client/client-options.ts";
import { FrameDecoder } from "../../src/protocol/decoder.ts";
import { encodeMessage } from "../../src/protocol/encoder.ts";
import type { Message } from "../../src/protocol/messages.ts";
import { TransportServer, type TransportServerOptions } from "../../src/server/transport-server.ts";
import type { Socket } from "../../src/socket.ts";
import { concatBytes } from "./concat-bytes.ts";
import { ForwardingSocket } from "./forwarding-socket.ts";
import { type MemorySocketOptions, memorySocketPair } from "./memory-socket.ts";

/** Concatenates chunks (`concatBytes` under the name the engine tests use). */
export { concatBytes as concat } from "./concat-bytes.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const utf8 = (text: string): Uint8Array => encoder.encode(text);
export const text = (bytes: Uint8Array): string => decoder.decode(bytes);

/** `length` bytes where byte i is `(i * 7 + seed) & 0xff`. */
export function pattern(length: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + seed) & 0xff;
  return bytes;
}

/** Reads a stream to the end. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return concatBytes(chunks);
    chunks.push(value);
  }
}

/** Waits for `turns` macrotask turns (lets microtask chains settle). */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

/** Records what the engine does to a socket: writes (by reference), pauses and resumes. */
export class RecordingSocket extends ForwardingSocket {
  readonly writes: Uint8Array[] = [];
  pauses = 0;
  resumes = 0;
  paused = false;

  override write(chunk: Uint8Array): boolean {
    this.writes.push(chunk);
    return super.write(chunk);
  }
  override pause(): void {
    this.pauses++;
    this.paused = true;
    super.pause();
  }
  override resume(): void {
    this.resumes++;
    this.paused = false;
    super.resume();
  }
}

export interface Served {
  readonly server: TransportServer;
  readonly client: TransportClient;
  /** The server-side handle of the client's connection. */
  readonly serverSide: TransportClient;
  /** The client's socket, recording writes and pauses. */
  readonly clientSocket: RecordingSocket;
  /** The server's socket, recording writes and pauses. */
  readonly serverSocket: RecordingSocket;
  /** Closes client and server. */
  close(): Promise<void>;
}

/** A server and a connected client over a memory socket pair. */
export function serve(
  serverOptions: TransportServerOptions,
  clientOptions: ClientOptions = {},
  socketOptions?: MemorySocketOptions,
): Served {
  const [a, b] = memorySocketPair(socketOptions);
  const clientSocket = new RecordingSocket(a);
  const serverSocket = new RecordingSocket(b);
  const server = new TransportServer(serverOptions);
  const serverSide = server.accept(serverSocket);
  const client = new TransportClient(clientSocket, clientOptions);
  return {
    server,
    client,
    serverSide,
    clientSocket,
    serverSocket,
    async close() {
      await client.close();
      await server.close();
    },
  };
}

/** A peer that speaks the wire protocol with the codec only: it sees and sends raw messages. */
export class RawPeer {
  readonly socket: Socket;
  readonly messages: Message[] = [];
  readonly bodies: Uint8Array[][] = [];
  closedWith: { error: unknown } | undefined;
  #waiters: { count: number; resolve: () => void }[] = [];
  readonly #decoder: FrameDecoder;
  #currentBody: Uint8Array[] | undefined;

  constructor(socket: Socket) {
    this.socket = socket;
    this.#decoder = new FrameDecoder({
      message: (message) => {
        this.messages.push(message);
        if (message.type === 7 || message.type === 10) {
          this.#currentBody = [];
          this.bodies.push(this.#currentBody);
        }
        this.#wake();
      },
      body: (chunk) => this.#currentBody?.push(chunk),
      bodyEnd: () => {
        this.#currentBody = undefined;
        this.#wake();
      },
    });
    socket.attach({
      data: (chunk) => this.#decoder.push(chunk),
      drain: () => {},
      close: (error) => {
        this.closedWith = { error };
        this.#wake();
      },
    });
  }

  send(message: Message): void {
    for (const chunk of encodeMessage(message)) this.socket.write(chunk);
  }

  writeRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Resolves once at least `count` messages arrived (and any raw body of the last is complete). */
  received(count: number): Promise<Message[]> {
    return new Promise((resolve) => {
      const waiter = { count, resolve: () => resolve(this.messages) };
      this.#waiters.push(waiter);
      this.#wake();
    });
  }

  #wake(): void {
    const ready = this.messages.length;
    this.#waiters = this.#waiters.filter((waiter) => {
      if ((ready >= waiter.count && this.#currentBody === undefined) || this.closedWith) {
        waiter.resolve();
        return false;
      }
      return true;
    });
  }
}
