/**
 * Spark's `SaslEncryption` as a {@linkcode Socket} layer: it sits between an adapter's socket and
 * the protocol engine, passes bytes through untouched while the SASL exchange runs, and once qop
 * `auth-conf` has been negotiated wraps everything written and unwraps everything received.
 *
 * ```
 * on the wire, per wrapped block:  i64 BE (8 + wrapped length) · wrapped block
 * wrapped block:                   see sasl-cipher.ts (3DES-CBC, MAC, type, seq)
 * ```
 *
 * Outgoing bytes are wrapped in blocks of at most `blockSize` plaintext bytes (Spark's
 * `spark.network.sasl.maxEncryptedBlockSize`, 64 KiB). The receiver joins the unwrapped bytes
 * and cuts Spark frames from them, so block and frame boundaries need not agree — as in Spark.
 * A block that fails its MAC, sequence number, padding or length check closes the connection with
 * a `SaslIntegrityError`; a declared block longer than `maxBlockLength` closes it with a
 * `LimitError` before any of it is buffered.
 *
 * Switching on: the client calls `startEncryption` after verifying the server's rspauth (the
 * server sends nothing until the client speaks again). The server calls `encryptAfterResponse`
 * while handling the client's digest-response: received bytes are unwrapped from then on, and
 * written bytes pass in clear up to the end of the RpcResponse frame that carries rspauth (the
 * engine writes it a moment later), and are wrapped after it — exactly where Spark switches.
 *
 * @module
 */

import { InvalidArgumentError, LimitError, ProtocolError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import { canonicalInt64 } from "../protocol/int64.ts";
import type { Int64 } from "../protocol/messages.ts";
import type { Connect, Listen, Socket, SocketClosed, SocketInfo, SocketSink } from "../socket.ts";
import { SaslCipher, SaslIntegrityError } from "./sasl-cipher.ts";

/** Options of the layer. */
export interface SaslLayerOptions {
  /** Plaintext bytes per wrapped block sent (default `defaultLimits.saslBlockSize`). */
  readonly blockSize?: number;
  /** Longest wrapped block accepted from the peer (default `defaultLimits.maxSaslBlockLength`). */
  readonly maxBlockLength?: number;
}

const layers = new WeakMap<SocketInfo, SaslSocket>();

/**
 * The SASL layer under a connection, found through the `info` object the connection reports
 * (`TransportClient.info` is its socket's `info`), or undefined when it was opened without one.
 *
 * @example
 * ```ts
 * import type { TransportClient } from "ferry-transport";
 * import { saslLayerOf } from "ferry-transport/sasl";
 *
 * declare const client: TransportClient; // opened through withSaslLayer(connect)
 * console.log(saslLayerOf(client) === undefined ? "no SASL layer" : "SASL layer present");
 * ```
 */
export function saslLayerOf(connection: { readonly info?: SocketInfo }): SaslSocket | undefined {
  const info = connection.info;
  return info === undefined ? undefined : layers.get(info);
}

/**
 * `connect` with a SASL layer on every socket it opens (needed for `encrypt: true`).
 *
 * @example
 * ```ts
 * import { TransportClient } from "ferry-transport";
 * import { sparkSaslBootstrap, withSaslLayer } from "ferry-transport/sasl";
 * import { tcpConnect } from "ferry-transport/node";
 *
 * const connect = withSaslLayer(tcpConnect({ host: "spark-host", port: 7337 }));
 * const client = await TransportClient.connect(connect);
 * const authenticate = sparkSaslBootstrap({ appId: "app-1", secret: "s3cret", encrypt: true });
 * await authenticate(client, { timeoutMs: 10_000, signal: AbortSignal.timeout(10_000) });
 * await client.close();
 * ```
 */
export function withSaslLayer(connect: Connect, options: SaslLayerOptions = {}): Connect {
  return async (connectOptions) => new SaslSocket(await connect(connectOptions), options);
}

/** `listen` with a SASL layer on every socket it accepts (needed to offer auth-conf). */
export function listenWithSaslLayer(listen: Listen, options: SaslLayerOptions = {}): Listen {
  return (onSocket) =>
    listen((socket, context) => onSocket(new SaslSocket(socket, options), context));
}

const HEADER_PEEK = 17; // frame length (8) · type (1) · requestId (8)
const RPC_RESPONSE = 4;

/**
 * A socket that can switch to SASL encryption part-way through.
 *
 * @example
 * ```ts
 * import type { TransportClient } from "ferry-transport";
 * import { saslLayerOf, SaslSocket } from "ferry-transport/sasl";
 *
 * declare const client: TransportClient;
 * console.log(saslLayerOf(client) instanceof SaslSocket);
 * ```
 */
export class SaslSocket implements Socket {
  readonly info: SocketInfo;
  readonly #inner: Socket;
  readonly #blockSize: number;
  readonly #maxBlockLength: number;
  #sink: SocketSink | undefined;
  #cipher: SaslCipher | undefined;
  #wrapping = false;
  #unwrapping = false;
  #tracking = true;
  #closing = false;
  // Outgoing frame tracking while in clear (pre-authentication traffic only, a few frames).
  readonly #peek = new Uint8Array(HEADER_PEEK);
  #peekFill = 0;
  #frameLength = 0;
  #skip = 0;
  #target: Int64 | undefined;
  #atTarget = false;
  // Incoming wrapped blocks.
  readonly #lengthBytes = new Uint8Array(8);
  #lengthFill = 0;
  #blockLength = 0;
  #parts: Uint8Array[] = [];
  #partsLength = 0;

  constructor(inner: Socket, options: SaslLayerOptions = {}) {
    this.#inner = inner;
    this.#blockSize = checkSize(options.blockSize, "blockSize", defaultLimits.saslBlockSize);
    this.#maxBlockLength = checkSize(
      options.maxBlockLength,
      "maxBlockLength",
      defaultLimits.maxSaslBlockLength,
    );
    const source = inner.info;
    this.info = Object.freeze({
      transport: source.transport,
      remoteAddress: source.remoteAddress,
      ...(source.localAddress === undefined ? {} : { localAddress: source.localAddress }),
    });
    layers.set(this.info, this);
    if (inner.allocateUninitialized !== undefined) {
      this.allocateUninitialized = (size) => inner.allocateUninitialized!(size);
    }
  }

  allocateUninitialized?: (size: number) => Uint8Array;

  get bufferedAmount(): number {
    return this.#inner.bufferedAmount;
  }

  get closed(): Promise<SocketClosed> {
    return this.#inner.closed;
  }

  /** Whether traffic is wrapped in both directions now. */
  get encrypting(): boolean {
    return this.#wrapping && this.#unwrapping;
  }

  attach(sink: SocketSink): void {
    this.#sink = sink;
    this.#inner.attach({
      data: (chunk) => {
        if (!this.#unwrapping) sink.data(chunk);
        else if (!this.#closing) this.#receive(chunk);
      },
      drain: () => sink.drain(),
      close: (error) => sink.close(error),
    });
  }

  /** Client side: wrap and unwrap everything from now on. */
  startEncryption(cipher: SaslCipher): void {
    this.#cipher = cipher;
    this.#tracking = false;
    this.#wrapping = true;
    this.#unwrapping = true;
  }

  /**
   * Server side: unwrap from now on; wrap after the outgoing RpcResponse frame with `requestId`
   * (the rspauth) has been written in clear.
   */
  encryptAfterResponse(requestId: Int64, cipher: SaslCipher): void {
    this.#cipher = cipher;
    this.#unwrapping = true;
    this.#target = canonicalInt64(requestId);
  }

  /** The exchange ended with qop `auth`: stay in clear and stop watching outgoing frames. */
  stayPlain(): void {
    this.#tracking = false;
  }

  write(chunk: Uint8Array): boolean {
    if (this.#wrapping) return this.#wrap(chunk);
    if (!this.#tracking || chunk.byteLength === 0) return this.#inner.write(chunk);
    const split = this.#track(chunk);
    if (split === undefined) return this.#inner.write(chunk);
    this.#tracking = false;
    this.#wrapping = true;
    if (split > 0) this.#inner.write(chunk.subarray(0, split));
    return split < chunk.byteLength ? this.#wrap(chunk.subarray(split)) : true;
  }

  pause(): void {
    this.#inner.pause();
  }

  resume(): void {
    this.#inner.resume();
  }

  close(error?: unknown): void {
    this.#closing = true;
    this.#inner.close(error);
  }

  #wrap(chunk: Uint8Array): boolean {
    const cipher = this.#cipher!;
    let blocks = 0, total = 0;
    for (let p = 0; p < chunk.byteLength; p += this.#blockSize) {
      blocks++;
      total += SaslCipher.wrappedLength(Math.min(this.#blockSize, chunk.byteLength - p));
    }
    const out = new Uint8Array(total + 8 * blocks);
    const view = new DataView(out.buffer);
    let offset = 0;
    for (let p = 0; p < chunk.byteLength; p += this.#blockSize) {
      const piece = chunk.subarray(p, Math.min(chunk.byteLength, p + this.#blockSize));
      const wrapped = SaslCipher.wrappedLength(piece.byteLength);
      // i64 BE without a BigInt per block (the length is far below 2^53).
      view.setUint32(offset, Math.floor((8 + wrapped) / 0x100000000));
      view.setUint32(offset + 4, (8 + wrapped) >>> 0);
      cipher.wrap(piece, out, offset + 8);
      offset += 8 + wrapped;
    }
    return this.#inner.write(out);
  }

  /** Follows outgoing frames; returns the offset just past the target frame when it ends here. */
  #track(chunk: Uint8Array): number | undefined {
    let pos = 0;
    while (pos < chunk.byteLength) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.byteLength - pos);
        this.#skip -= n;
        pos += n;
        if (this.#skip === 0 && this.#atTarget) return pos;
        continue;
      }
      const need = this.#peekFill < 8 ? 8 : Math.min(HEADER_PEEK, this.#frameLength);
      const n = Math.min(need - this.#peekFill, chunk.byteLength - pos);
      this.#peek.set(chunk.subarray(pos, pos + n), this.#peekFill);
      this.#peekFill += n;
      pos += n;
      if (this.#peekFill < need) continue;
      const view = new DataView(this.#peek.buffer);
      if (need === 8) {
        this.#frameLength = Number(view.getBigInt64(0));
        if (this.#frameLength <= 8) this.#tracking = false; // not Spark framing: stop following
        continue;
      }
      this.#atTarget = this.#target !== undefined && this.#peek[8] === RPC_RESPONSE &&
        need === HEADER_PEEK && canonicalInt64(view.getBigInt64(9)) === this.#target;
      this.#skip = this.#frameLength - need;
      this.#peekFill = 0;
      if (this.#skip === 0 && this.#atTarget) return pos;
    }
    return undefined;
  }

  #receive(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.byteLength) {
      if (this.#blockLength === 0) {
        const n = Math.min(8 - this.#lengthFill, chunk.byteLength - pos);
        this.#lengthBytes.set(chunk.subarray(pos, pos + n), this.#lengthFill);
        this.#lengthFill += n;
        pos += n;
        if (this.#lengthFill < 8) return;
        this.#lengthFill = 0;
        const declared = new DataView(this.#lengthBytes.buffer).getBigInt64(0) - 8n;
        if (declared > BigInt(this.#maxBlockLength)) {
          return this.#fail(
            new LimitError(
              `SASL: the peer announced a wrapped block of ${declared} bytes, more than ` +
                `maxSaslBlockLength (${this.#maxBlockLength})`,
            ),
          );
        }
        if (declared < 22n) {
          return this.#fail(
            new ProtocolError(`SASL: a wrapped block of ${declared} bytes is too short`),
          );
        }
        this.#blockLength = Number(declared);
        continue;
      }
      const n = Math.min(this.#blockLength - this.#partsLength, chunk.byteLength - pos);
      this.#parts.push(chunk.subarray(pos, pos + n));
      this.#partsLength += n;
      pos += n;
      if (this.#partsLength < this.#blockLength) return;
      const block = this.#parts.length === 1
        ? this.#parts[0]!
        : concat(this.#parts, this.#partsLength);
      this.#parts = [];
      this.#partsLength = 0;
      this.#blockLength = 0;
      let plain: Uint8Array;
      try {
        plain = this.#cipher!.unwrap(block);
      } catch (error) {
        return this.#fail(error);
      }
      if (plain.byteLength > 0) this.#sink!.data(plain);
      if (this.#closing) return; // the engine closed the connection on these bytes
    }
  }

  #fail(error: unknown): void {
    this.#closing = true;
    this.#parts = [];
    this.#inner.close(
      error instanceof SaslIntegrityError || error instanceof LimitError ||
        error instanceof ProtocolError
        ? error
        : new SaslIntegrityError("SASL unwrap failed", { cause: error }),
    );
  }
}

function checkSize(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1 || value > 0x7fffffff) {
    throw new InvalidArgumentError(
      `SaslLayerOptions.${name}: expected an integer from 1 to 2^31-1, received ${String(value)}`,
    );
  }
  return value;
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
