/**
 * One browser session: the browser's WebSocket on one side, one backend `TransportClient` (an
 * exclusive pool lease, never reused by another browser, because a backend binds stream ids to
 * the connection that opened them) on the other.
 *
 * It is a message-level proxy, not a byte pipe: every browser frame is decoded and validated
 * (frame size, allowed types), then performed with the client's own API — `sendRpc`, `send`,
 * `fetchChunk`, `stream`, `uploadStream`, `sendMergedBlockMetaRequest` — and each reply is
 * re-encoded with the browser's own ids (requestId; streamId and chunkIndex; stream replies in
 * request order). So nothing the backend sees is Ferry-only (a plain Spark server works), Ferry
 * control messages from the browser are answered or refused by the gateway and never forwarded,
 * and requests the backend sends are refused by the client (no handler) and never reach the page.
 *
 * Lifecycle: `auth` (when an authenticator is configured: the first message must be the token,
 * within `authTimeoutMs`) → `ready` (no backend connection yet: a session that never sends a
 * request, or whose first frame is refused, costs the backend nothing) → `leasing` on the first
 * request to forward (requests are held and the browser paused) → `open` → `closed`. The browser is paused while the backend is being reached, while replies for it pile
 * up (see `browser-writer.ts`), while `maxInFlightRequests` or `maxRequestBytesInFlight` are
 * reached, while an upload body waits for the backend, and while one-way messages sit unsent in
 * the backend client's queue (`backend-queue-watch.ts`: woken by the backend's drain, never by
 * polling). Backend death (closed, reset, heartbeat timeout, Spark's `connectionTimeoutMs`) ends
 * the session with 4502.
 *
 * The caps apply per request, not per WebSocket message: received bytes are decoded one frame at
 * a time (`browser-reader.ts`), and while a cap is reached the rest of a message waits undecoded
 * (and the socket stays paused). A session that forwards no request for `idleTimeoutMs` with
 * nothing in flight is closed with 4408, whatever pings it answers.
 *
 * @module
 */

import type { TransportClient } from "../client/transport-client.ts";
import type { Clock, TimerHandle } from "../clock.ts";
import { describeError, ProtocolError } from "../errors.ts";
import type { PoolLease } from "../pool/pool-lease.ts";
import type { FrameHandler } from "../protocol/decoder.ts";
import { type Message, MessageType, messageTypeName } from "../protocol/messages.ts";
import type { Socket, SocketSink, UpgradeRequest } from "../socket.ts";
import { BackendQueueWatch } from "./backend-queue-watch.ts";
import type { BackendSocket } from "./backend-socket.ts";
import { BrowserReader } from "./browser-reader.ts";
import { BrowserWriter } from "./browser-writer.ts";
import { GatewayCloseCode, GatewayClosedError } from "./close-codes.ts";
import type { ResolvedGatewayOptions } from "./gateway-options.ts";
import { decodeGatewayToken, encodeGatewayTokenOk } from "./gateway-token.ts";
import type { UploadBody } from "./upload-body.ts";
import { type Operation, operationFor, type RequestSession } from "./browser-requests.ts";

/** What a session needs from its gateway. */
export interface SessionHost {
  readonly options: ResolvedGatewayOptions;
  /** Leases the backend connection for `target` (a configured name). */
  lease(target: string): Promise<PoolLease<TransportClient>>;
  /** The socket under a leased backend client (to learn when the backend takes bytes again). */
  backendSocket(client: TransportClient): BackendSocket | undefined;
  countIn(bytes: number): void;
  countOut(bytes: number): void;
  /** The session ended; `error` is undefined for a graceful end. */
  ended(session: GatewaySession, error: unknown): void;
}

type State = "auth" | "authenticating" | "ready" | "leasing" | "open" | "closed";

export class GatewaySession implements SocketSink, FrameHandler {
  readonly target: string;
  readonly request: UpgradeRequest;
  readonly #socket: Socket;
  readonly #host: SessionHost;
  readonly #options: ResolvedGatewayOptions;
  readonly #reader: BrowserReader;
  readonly #writer: BrowserWriter;
  readonly #clock: Clock;
  #state: State;
  #lease: PoolLease<TransportClient> | undefined;
  #client: TransportClient | undefined;
  /** Whether the backend takes the browser's one-way messages (set once the lease is in). */
  #oneWay: BackendQueueWatch | undefined;
  #pending: Operation[] = [];
  /** The `authTimeoutMs` deadline, while the credential is awaited. */
  #timer: TimerHandle | undefined;
  #paused = false;
  #inFlight = 0;
  #requestBytes = 0;
  #upload: UploadBody | undefined;
  readonly #requests: RequestSession;
  #idleTimer: TimerHandle | undefined;
  /** When the browser last sent a request or got a reply (`clock.now()`), for `idleTimeoutMs`. */
  #lastActive: number;

  constructor(socket: Socket, target: string, request: UpgradeRequest, host: SessionHost) {
    this.target = target;
    this.request = request;
    this.#socket = socket;
    this.#host = host;
    const options = this.#options = host.options;
    const clock = this.#clock = options.clock;
    this.#lastActive = clock.now();
    this.#reader = new BrowserReader(this, options.maxFrameLength, {
      closed: () => this.#state === "closed",
      requestsFull: () => this.#requestsFull(),
      fault: (error) => this.close(error),
    });
    this.#writer = new BrowserWriter(socket, {
      highWaterMark: options.highWaterMark,
      maxBufferedBytes: options.maxBufferedBytes,
      slowConsumerTimeoutMs: options.slowConsumerTimeoutMs,
      clock,
      onWritten: (bytes) => host.countOut(bytes),
      onChange: () => this.#updateReading(),
      onFailure: (error) => this.close(error),
    });
    this.#requests = {
      allowUpload: options.allowUpload,
      uploadHighWaterMark: options.highWaterMark,
      answer: (message) => this.#writer.send(message),
      begin: (bytes) => {
        this.#inFlight++;
        this.#requestBytes += bytes;
      },
      reply: (bytes, message) => this.#reply(bytes, message),
      replyLent: (bytes, message) => this.#replyLent(bytes, message),
      streamOpened: (streamId, body) => {
        this.#settle(0);
        if (this.#state === "closed") body.cancel().catch(() => {});
        else this.#writer.sendStream(streamId, body);
      },
      oneWaySent: (bytes) => this.#oneWay?.sent(bytes),
      uploadStarted: (upload) => {
        this.#upload = upload;
      },
      uploadPulled: () => this.#updateReading(),
    };
    if (options.authenticate !== undefined) {
      this.#state = "auth";
      this.#timer = clock.setTimer(() => {
        this.close(
          new GatewayClosedError(
            GatewayCloseCode.Timeout,
            "auth-timeout",
            `No accepted credential within ${options.authTimeoutMs} ms (authTimeoutMs)`,
          ),
        );
      }, options.authTimeoutMs);
    } else {
      this.#state = "ready";
    }
    if (options.idleTimeoutMs > 0) this.#armIdle(options.idleTimeoutMs);
    socket.attach(this);
    this.#updateReading();
  }

  /** Bytes queued towards the browser (here and in its socket). */
  get buffered(): number {
    return this.#writer.buffered;
  }

  get isOpen(): boolean {
    return this.#state !== "closed";
  }

  /** Ends the session: with a `GatewayClosedError` the browser gets its close code. */
  close(error?: unknown): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    if (this.#idleTimer !== undefined) this.#clock.clearTimer(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#reader.clear();
    this.#pending = [];
    this.#writer.dispose();
    this.#upload?.fail(error ?? new ProtocolError("The gateway session ended"));
    this.#upload = undefined;
    this.#oneWay?.close();
    this.#lease?.release(false);
    this.#lease = undefined;
    this.#socket.close(error);
    this.#host.ended(this, error);
  }

  // SocketSink: the browser side.
  data(chunk: Uint8Array): void {
    this.#host.countIn(chunk.byteLength);
    if (this.#state === "closed" || chunk.byteLength === 0) return;
    this.#reader.hold(chunk);
    this.#updateReading();
  }

  drain(): void {
    this.#writer.drain();
  }

  // FrameHandler: decoded browser frames.
  message(message: Message): void {
    if (this.#state === "closed") return;
    if (this.#state === "auth" || this.#state === "authenticating") {
      this.#authenticate(message);
      return;
    }
    if (message.type === MessageType.UploadStream) this.#reader.expectBody(message.bodyByteCount);
    const operation = operationFor(message, this.#requests);
    if (operation === undefined) return;
    this.#lastActive = this.#clock.now();
    if (this.#client !== undefined) {
      operation(this.#client);
      return;
    }
    this.#pending.push(operation);
    if (this.#state === "ready") {
      this.#state = "leasing";
      this.#startLease();
    }
  }

  body(chunk: Uint8Array): void {
    this.#upload?.push(chunk);
  }

  bodyEnd(): void {
    this.#upload?.end();
    this.#upload = undefined;
  }

  #authenticate(message: Message): void {
    const credential = this.#state === "auth" && message.type === MessageType.RpcRequest
      ? decodeGatewayToken(message.body)
      : undefined;
    if (credential === undefined || message.type !== MessageType.RpcRequest) {
      throw new GatewayClosedError(
        GatewayCloseCode.Unauthorized,
        "auth-required",
        `Authentication required: the first message must be the gateway token, got ${
          messageTypeName[message.type]
        }${this.#state === "authenticating" ? " before the token was accepted" : ""}`,
      );
    }
    this.#state = "authenticating";
    const requestId = message.requestId;
    const copy = credential.slice();
    Promise.resolve()
      .then(() => this.#options.authenticate!(copy, { target: this.target, request: this.request }))
      .then((accepted) => accepted === true, () => false)
      .then((accepted) => {
        copy.fill(0);
        if (this.#state !== "authenticating") return;
        if (!accepted) {
          this.#writer.send({
            type: MessageType.RpcFailure,
            requestId,
            error: "Gateway authentication failed: credential refused",
          });
          this.close(
            new GatewayClosedError(
              GatewayCloseCode.Unauthorized,
              "auth-failed",
              "Gateway authentication failed: credential refused",
            ),
          );
          return;
        }
        if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
        this.#timer = undefined;
        this.#writer.send({
          type: MessageType.RpcResponse,
          requestId,
          body: encodeGatewayTokenOk(),
        });
        this.#state = "ready";
        this.#updateReading();
      });
    this.#updateReading();
  }

  #startLease(): void {
    this.#host.lease(this.target).then((lease) => {
      if (this.#state !== "leasing") {
        lease.release(false);
        return;
      }
      this.#lease = lease;
      const client = lease.client;
      client.closed.then((closed) => {
        if (this.#lease !== lease) return;
        this.close(
          new GatewayClosedError(
            GatewayCloseCode.BadGateway,
            "backend-closed",
            `The backend '${this.target}' closed the connection` +
              (closed.error === undefined ? "" : `: ${describeError(closed.error)}`),
            { cause: closed.error },
          ),
        );
      });
      this.#client = client;
      const backend = this.#host.backendSocket(client);
      if (backend !== undefined) {
        this.#oneWay = new BackendQueueWatch(
          client,
          backend,
          this.#options.highWaterMark,
          () => this.#updateReading(),
        );
      }
      this.#state = "open";
      const pending = this.#pending;
      this.#pending = [];
      for (const operation of pending) {
        if (this.#state !== "open") return;
        operation(client);
      }
      this.#updateReading();
    }, (error) => {
      this.close(
        new GatewayClosedError(
          GatewayCloseCode.BadGateway,
          "backend-unavailable",
          `The backend '${this.target}' is unavailable: ${describeError(error)}`,
          { cause: error },
        ),
      );
    });
  }

  #settle(bytes: number): void {
    this.#inFlight--;
    this.#requestBytes -= bytes;
    this.#lastActive = this.#clock.now();
  }

  /**
   * Closes the session once the browser has sent no request for `idleTimeoutMs` and nothing is
   * in flight or queued for it. WebSocket pings and Ferry pings the gateway answers do not count:
   * a tab that only answers pings still holds a session (and its share of the per-address cap).
   * One timer per session, re-armed from the last activity rather than reset on each request.
   */
  #armIdle(delayMs: number): void {
    this.#idleTimer = this.#clock.setTimer(() => {
      this.#idleTimer = undefined;
      if (this.#state === "closed") return;
      const idleMs = this.#options.idleTimeoutMs;
      const quiet = this.#clock.now() - this.#lastActive;
      const busy = this.#inFlight > 0 || this.#pending.length > 0 || this.#upload !== undefined ||
        !this.#writer.settled || this.#reader.holding;
      if (busy || quiet < idleMs) {
        this.#armIdle(busy ? idleMs : idleMs - quiet);
        return;
      }
      this.close(
        new GatewayClosedError(
          GatewayCloseCode.Timeout,
          "idle-timeout",
          `No request from the browser for ${idleMs} ms (idleTimeoutMs)`,
        ),
      );
    }, delayMs);
  }

  /** True while no further browser request may be decoded (a cap is reached). */
  #requestsFull(): boolean {
    const options = this.#options;
    return this.#inFlight >= options.maxInFlightRequests ||
      this.#requestBytes > options.maxRequestBytesInFlight || this.#writer.congested ||
      (this.#oneWay?.congested ?? false);
  }

  #reply(bytes: number, message: Message): void {
    this.#settle(bytes);
    if (this.#state === "closed") return;
    this.#writer.send(message);
    this.#updateReading();
  }

  #replyLent(bytes: number, message: Message): Promise<void> {
    this.#settle(bytes);
    if (this.#state === "closed") return Promise.resolve();
    return new Promise<void>((flushed) => {
      this.#writer.send(message, flushed);
      this.#updateReading();
    });
  }

  #updateReading(): void {
    if (this.#state === "closed") return;
    if (this.#reader.holding && !this.#reader.pumping) {
      this.#reader.pump();
      if (!this.isOpen) return; // decoding refused a frame and closed the session
    }
    const stop = this.#state === "authenticating" || this.#state === "leasing" ||
      this.#reader.holding || this.#requestsFull() || (this.#upload?.full ?? false);
    if (stop === this.#paused) return;
    this.#paused = stop;
    if (stop) this.#socket.pause();
    else this.#socket.resume();
  }
}
