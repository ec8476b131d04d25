/**
 * The server half of Spark's SASL authentication (`SaslServerBootstrap` / `SaslRpcHandler`), as
 * a gate in front of a `TransportServer`: Spark's clients with `spark.authenticate=true` (and
 * Ferry's `sparkSaslBootstrap`) authenticate with DIGEST-MD5, optionally switching the connection
 * to SASL encryption.
 *
 * ```ts
 * const sasl = new SparkSaslServer({ secretFor: (appId) => secrets.get(appId) });
 * const server = new TransportServer(sasl.serverOptions({ rpcHandler, streamManager }));
 * await server.listen(sasl.listen(tcpListen({ port: 7337 })));
 * ```
 *
 * Stricter than Spark: until a connection has authenticated, every other message is refused and
 * never reaches the handler or the stream manager — RPCs, uploads and merged-meta requests get an
 * RpcFailure, chunk fetches a ChunkFetchFailure, stream requests a StreamFailure, one-way messages
 * are dropped (Spark serves StreamRequest and ChunkFetchRequest before authentication). A failed
 * exchange is answered with an RpcFailure carrying the JDK's message and the connection is closed
 * (Spark leaves it open). An unknown appId is not revealed: the exchange fails at the digest like a
 * wrong secret. After authentication `principalOf(client)` is the appId, so a
 * `OneForOneStreamManager` given `principalOf` ties streams registered for that appId to it.
 *
 * The challenge offers `auth-conf,auth` (`auth-conf` only with `alwaysEncrypt`, Spark's
 * `spark.network.sasl.serverAlwaysEncrypt`) on connections accepted through `listen` (which adds
 * the SASL socket layer); a connection without the layer is offered `auth` only.
 *
 * @module
 */

import type { InboundInterceptor } from "../client/client-options.ts";
import type { Peer } from "../responder/peer.ts";
import { startAuthDeadline } from "../auth/auth-deadline.ts";
import { type Clock, systemClock, type TimerHandle } from "../clock.ts";
import { gatedServerOptions, guardHandler } from "../auth/authenticated-handler.ts";
import { refuseUnauthenticated, trySend } from "../auth/refuse-unauthenticated.ts";
import { AuthError, describeError, InvalidArgumentError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import { type Int64, type Message, MessageType, messageTypeName } from "../protocol/messages.ts";
import type { RpcHandler } from "../responder/rpc-handler.ts";
import type { TransportServerOptions } from "../server/transport-server.ts";
import type { Listen } from "../socket.ts";
import { MAX_DIRECTIVES_LENGTH, type Qop, sparkSaslPassword } from "./digest-md5.ts";
import { DigestMd5Server } from "./digest-server.ts";
import { SaslCipher } from "./sasl-cipher.ts";
import { decodeSaslMessage, isSaslMessage } from "./sasl-message.ts";
import { listenWithSaslLayer, saslLayerOf, type SaslLayerOptions } from "./sasl-socket.ts";

/** How the gate finds secrets and what it offers. */
export interface SparkSaslServerOptions {
  /** One secret for every appId. Give this or `secretFor`. */
  readonly secret?: string | Uint8Array;
  /** The secret of `appId`, or undefined when unknown (Spark's `SecretKeyHolder`). */
  readonly secretFor?: (
    appId: string,
  ) => string | Uint8Array | undefined | Promise<string | Uint8Array | undefined>;
  /** Offer only qop auth-conf (Spark's `spark.network.sasl.serverAlwaysEncrypt`). */
  readonly alwaysEncrypt?: boolean;
  /** Close connections not authenticated within this long. Default `defaultLimits.authTimeoutMs`. */
  readonly authTimeoutMs?: number;
  /**
   * Runs the `authTimeoutMs` deadlines. Default `systemClock`; tests pass a hand-driven clock to
   * expire a deadline without waiting for it.
   */
  readonly clock?: Clock;
  /** Told about every failed authentication, with the real reason (logs, metrics). */
  readonly onAuthFailure?: (remoteAddress: string, reason: unknown) => void;
  /** The nonce of each exchange (tests); default 30 random bytes from `crypto.getRandomValues`. */
  readonly nonce?: () => string;
}

const Stage = {
  AwaitHello: 0,
  LookingUp: 1,
  AwaitResponse: 2,
  Authenticated: 3,
  Failed: 4,
} as const;
type Stage = (typeof Stage)[keyof typeof Stage];

interface Session {
  stage: Stage;
  appId: string;
  password: string;
  digest: DigestMd5Server | undefined;
  timer: TimerHandle | undefined;
}

/** Spark's own refusal text, so a Spark client without SASL sees what Spark would say. */
const REFUSAL = "Expected SaslMessage, received something else " +
  "(maybe your client does not have SASL enabled?)";

/**
 * Authenticates every connection of a server with Spark's SASL before anything else runs.
 *
 * @example
 * ```ts
 * import { OneForOneStreamManager, TransportServer } from "ferry-transport";
 * import { SparkSaslServer } from "ferry-transport/sasl";
 * import { tcpListen } from "ferry-transport/node";
 *
 * const sasl = new SparkSaslServer({ secret: "the value of spark.authenticate.secret" });
 * const streams = new OneForOneStreamManager({ principalOf: sasl.principalOf });
 * const rpcHandler = { receive: (_client: unknown, body: Uint8Array) => body };
 * const server = new TransportServer(sasl.serverOptions({ rpcHandler, streamManager: streams }));
 * await server.listen(sasl.listen(tcpListen({ port: 7337 })));
 * await server.close();
 * ```
 */
export class SparkSaslServer {
  /** Install as (the first) `interceptor` of the server; see `serverOptions`. */
  readonly interceptor: InboundInterceptor;
  readonly #sessions = new WeakMap<Peer, Session>();
  readonly #options: SparkSaslServerOptions;
  readonly #authTimeoutMs: number;
  readonly #clock: Clock;

  constructor(options: SparkSaslServerOptions) {
    const where = "SparkSaslServer";
    if ((options?.secret === undefined) === (options?.secretFor === undefined)) {
      throw new InvalidArgumentError(`${where}: give exactly one of secret and secretFor`);
    }
    if (options.secretFor !== undefined && typeof options.secretFor !== "function") {
      throw new InvalidArgumentError(
        `${where}: secretFor must be a function, received ${typeof options.secretFor}`,
      );
    }
    if (options.secret !== undefined && options.secret.length === 0) {
      throw new InvalidArgumentError(`${where}: the secret must not be empty`);
    }
    const timeout = options.authTimeoutMs ?? defaultLimits.authTimeoutMs;
    if (!Number.isFinite(timeout) || timeout < 0) {
      throw new InvalidArgumentError(
        `${where}: authTimeoutMs must be a finite number ≥ 0, received ${String(timeout)}`,
      );
    }
    this.#authTimeoutMs = timeout;
    this.#clock = options.clock ?? systemClock;
    this.#options = options;
    this.interceptor = (message, client) => this.#intercept(message, client);
  }

  /** `listen` with the SASL socket layer on every accepted socket (needed for auth-conf). */
  listen(listen: Listen, options: SaslLayerOptions = {}): Listen {
    return listenWithSaslLayer(listen, options);
  }

  /** Whether `client` (a server-side connection) has authenticated. */
  isAuthenticated(client: Peer): boolean {
    return this.#sessions.get(client)?.stage === Stage.Authenticated;
  }

  /** The appId `client` authenticated as, or undefined. */
  readonly principalOf = (client: Peer): string | undefined => {
    const session = this.#sessions.get(client);
    return session?.stage === Stage.Authenticated ? session.appId : undefined;
  };

  /** `handler` behind the gate (fail closed if the interceptor is missing). */
  wrapHandler(handler: RpcHandler): RpcHandler {
    return guardHandler(handler, {
      opened: (client) => this.#session(client),
      check: (client, what) => {
        if (!this.isAuthenticated(client)) {
          throw new AuthError(`${what} refused: the connection has not authenticated with SASL`);
        }
      },
    });
  }

  /** Server options with the gate installed (handler wrapped, interceptor first). */
  serverOptions<T extends TransportServerOptions>(options: T): T {
    return gatedServerOptions(this, options);
  }

  #session(client: Peer): Session {
    let session = this.#sessions.get(client);
    if (session !== undefined) return session;
    session = {
      stage: Stage.AwaitHello,
      appId: "",
      password: "",
      digest: undefined,
      timer: undefined,
    };
    this.#sessions.set(client, session);
    if (this.#authTimeoutMs > 0) {
      const created = session;
      created.timer = startAuthDeadline(
        this.#clock,
        client,
        this.#authTimeoutMs,
        "complete SASL authentication",
        () => {
          created.timer = undefined;
          if (created.stage === Stage.Authenticated || created.stage === Stage.Failed) return false;
          created.stage = Stage.Failed;
          return true;
        },
        this.#options.onAuthFailure,
      );
    }
    return session;
  }

  #intercept(message: Message, client: Peer): boolean {
    const session = this.#session(client);
    if (session.stage === Stage.Authenticated) return false;
    if (message.type !== MessageType.RpcRequest || !isSaslMessage(message.body)) {
      refuseUnauthenticated(
        message,
        client,
        `${REFUSAL}: ${messageTypeName[message.type]} refused before SASL authentication`,
      );
      return true;
    }
    if (session.stage === Stage.AwaitHello) {
      session.stage = Stage.LookingUp;
      void this.#hello(client, session, message.requestId, message.body);
    } else if (session.stage === Stage.AwaitResponse) {
      this.#response(client, session, message.requestId, message.body);
    } else {
      this.#fail(
        client,
        session,
        message.requestId,
        new AuthError("DIGEST-MD5: Server at illegal state"),
      );
    }
    return true;
  }

  async #hello(client: Peer, session: Session, requestId: Int64, body: Uint8Array) {
    try {
      const { appId, token } = decodeSaslMessage(body);
      if (token.byteLength !== 0) {
        throw new AuthError(
          "DIGEST-MD5: the client's first token must be empty (no initial response)",
        );
      }
      const secret = this.#options.secret ?? (await this.#options.secretFor!(appId));
      if (session.stage !== Stage.LookingUp) return;
      if (secret === undefined) {
        // The peer learns nothing: the digest will not match, as with a wrong secret.
        this.#options.onAuthFailure?.(
          client.remoteAddress,
          new AuthError(`SASL: unknown appId '${appId}' (the exchange will fail)`),
        );
      }
      const layer = saslLayerOf(client);
      const qops: Qop[] = layer === undefined
        ? ["auth"]
        : this.#options.alwaysEncrypt === true
        ? ["auth-conf"]
        : ["auth-conf", "auth"];
      if (layer === undefined && this.#options.alwaysEncrypt === true) {
        throw new AuthError(
          "SparkSaslServer: alwaysEncrypt needs the SASL socket layer: listen through sasl.listen(...)",
        );
      }
      session.appId = appId;
      session.password = secret === undefined
        ? sparkSaslPassword(crypto.getRandomValues(new Uint8Array(32)))
        : sparkSaslPassword(secret);
      session.digest = new DigestMd5Server({ qops, nonce: this.#options.nonce });
      session.stage = Stage.AwaitResponse;
      trySend(client, {
        type: MessageType.RpcResponse,
        requestId,
        body: session.digest.challenge(),
      });
    } catch (error) {
      this.#fail(client, session, requestId, error);
    }
  }

  #response(client: Peer, session: Session, requestId: Int64, body: Uint8Array) {
    try {
      const { token } = decodeSaslMessage(body);
      if (token.byteLength > MAX_DIRECTIVES_LENGTH) {
        throw new AuthError(
          `DIGEST-MD5: a digest-response of ${token.byteLength} bytes, more than ${MAX_DIRECTIVES_LENGTH}`,
        );
      }
      const digest = session.digest!;
      // Synchronous from here to the switch: no byte from the client can slip in between.
      const rspauth = digest.verify(token, session.password);
      session.stage = Stage.Authenticated;
      this.#clock.clearTimer(session.timer);
      session.timer = undefined;
      const layer = saslLayerOf(client);
      if (digest.qop === "auth-conf") {
        layer!.encryptAfterResponse(requestId, new SaslCipher(digest.sessionKey, "server"));
      } else {
        layer?.stayPlain();
      }
      trySend(client, { type: MessageType.RpcResponse, requestId, body: rspauth });
    } catch (error) {
      this.#fail(client, session, requestId, error);
    }
  }

  #fail(client: Peer, session: Session, requestId: Int64, reason: unknown): void {
    if (session.stage === Stage.Failed) return;
    session.stage = Stage.Failed;
    this.#clock.clearTimer(session.timer);
    session.timer = undefined;
    this.#options.onAuthFailure?.(
      client.remoteAddress,
      session.appId === "" ? reason : new AuthError(
        `SASL authentication of appId '${session.appId}' failed: ${describeError(reason)}`,
        { cause: reason },
      ),
    );
    trySend(client, { type: MessageType.RpcFailure, requestId, error: describeError(reason) });
    client.close().catch(() => {});
  }
}
