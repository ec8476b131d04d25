/**
 * The WebSocket surface Ferry's adapter uses (the WHATWG API plus the `ws` package's extras), how
 * to tell the `ws` package's sockets from standard ones, the `binaryType` each is read with, and
 * how their buffered amount and their messages' bytes are read.
 *
 * @module
 */

/** The WebSocket surface the adapter uses: the WHATWG API, plus `ws`'s extras where present. */
export interface WebSocketLike {
  binaryType: string;
  /** Absent in some runtimes (workerd): the adapter then treats it as unknown (0). */
  readonly bufferedAmount?: number;
  readonly readyState: number;
  /**
   * `options` and `sent` are `ws`'s (`sent` runs once the message is written to the kernel);
   * used only with the `ws` package's sockets.
   */
  send(
    data: Uint8Array,
    options?: { binary: boolean; fin: boolean },
    sent?: (error?: Error) => void,
  ): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: never) => void): void;
  removeEventListener(type: string, listener: (event: never) => void): void;
  pause?(): void;
  resume?(): void;
  terminate?(): void;
  /**
   * `ws`'s own events: `message` gives the data and whether it is binary, with no `MessageEvent`
   * made per message (used only with the `ws` package's sockets).
   */
  on?(type: "message", listener: (data: unknown, isBinary: boolean) => void): void;
  off?(type: "message", listener: (data: unknown, isBinary: boolean) => void): void;
}

/**
 * Whether this is the `ws` package's WebSocket (the only one with `terminate`, `pause`, `resume`
 * and `on`), whose `send` takes options and a written-callback.
 */
export function isWsPackageSocket(ws: WebSocketLike): boolean {
  return typeof ws.terminate === "function" && typeof ws.pause === "function" &&
    typeof ws.resume === "function" && typeof ws.on === "function" && typeof ws.off === "function";
}

/**
 * The `binaryType` Ferry reads with: `nodebuffer` for the `ws` package, whose messages then arrive
 * as views of the bytes it received (`arraybuffer` makes it copy every message that does not fill a
 * buffer of its own, such as a chunk reply's 21-byte header, into a new ArrayBuffer), and the
 * standard `arraybuffer` for every other WebSocket.
 */
export function binaryTypeFor(ws: WebSocketLike): "nodebuffer" | "arraybuffer" {
  return isWsPackageSocket(ws) ? "nodebuffer" : "arraybuffer";
}

/**
 * The WebSocket's own `bufferedAmount`, or 0 where it has none, it is not a count (workerd's
 * WebSocket gives none) or reading it throws: unknown, so it adds nothing to what callers compare
 * with their limits (a getter of the `Socket` must not throw).
 */
export function runtimeBuffered(ws: WebSocketLike): number {
  let amount: unknown;
  try {
    amount = ws.bufferedAmount;
  } catch {
    return 0; // workerd throws for a WebSocket of another request; the next send says why
  }
  return typeof amount === "number" && amount >= 0 && Number.isFinite(amount) ? amount : 0;
}

/** Received message data as bytes; undefined for text or anything else that is not binary. */
export function messageBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  return undefined;
}
