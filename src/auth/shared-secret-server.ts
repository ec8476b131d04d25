/**
 * The server half of Ferry's shared-secret authentication (protocol in
 * `shared-secret-protocol.ts`) — the counterpart of Spark's `AuthRpcHandler`, built on the
 * engine's inbound interceptor so that it sees every message before dispatch.
 *
 * Until a connection has authenticated, every message other than the authentication exchange is
 * refused and never reaches the `RpcHandler` or the `StreamManager`: RPCs, uploads and merged-meta
 * requests get an RpcFailure, chunk fetches a ChunkFetchFailure, stream requests a StreamFailure
 * (all saying authentication is required); one-way messages are dropped. A failed exchange is
 * answered with an RpcFailure and the connection is closed. A connection that has not
 * authenticated within `authTimeoutMs` is closed.
 *
 * ```ts
 * const auth = new SharedSecretServer({ secretFor: (principal) => secrets.get(principal) });
 * const server = new TransportServer(auth.serverOptions({ rpcHandler, streamManager }));
 * ```
 *
 * An unknown principal is not revealed to the peer: the exchange proceeds with a throwaway key
 * and fails at the proof, exactly like a wrong secret (the real reason goes to `onAuthFailure`).
 *
 * @module
 */

import type { InboundInterceptor } from "../client/client-options.ts";
import { type Clock, systemClock, type TimerHandle } from "../clock.ts";
import type { Peer } from "../responder/peer.ts";
import { AuthError, describeError, InvalidArgumentError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import { type Int64, type Message, MessageType, messageTypeName } from "../protocol/messages.ts";
import {
  controlFields,
  ControlKind,
  controlKind,
  encodeControl,
} from "../protocol/ferry-control.ts";
import type { RpcHandler } from "../responder/rpc-handler.ts";
import type { TransportServerOptions } from "../server/transport-server.ts";
import {
  decodeHello,
  importSecret,
  newNonce,
  type SharedSecret,
  sign,
  verify,
} from "./shared-secret-protocol.ts";
import { startAuthDeadline } from "./auth-deadline.ts";
import { gatedServerOptions, guardHandler } from "./authenticated-handler.ts";
import { refuseUnauthenticated, trySend } from "./refuse-unauthenticated.ts";

/** How the server finds secrets and how long it waits. */
export interface SharedSecretServerOptions {
  /** One secret for every principal. Give this or `secretFor`. */
  readonly secret?: SharedSecret;
  /** The secret of `principal`, or undefined when unknown (Spark's `SecretKeyHolder`). */
  readonly secretFor?: (
    principal: string,
  ) => SharedSecret | undefined | Promise<SharedSecret | undefined>;
  /** Close connections not authenticated within this long. Default `defaultLimits.authTimeoutMs`. */
  readonly authTimeoutMs?: number;
  /**
   * Runs the `authTimeoutMs` deadlines. Default `systemClock`; tests pass a hand-driven clock to
   * expire a deadline without waiting for it.
   */
  readonly clock?: Clock;
  /** Told about every failed authentication, with the real reason (for logs and metrics). */
  readonly onAuthFailure?: (remoteAddress: string, reason: unknown) => void;
}

const Stage = {
  AwaitHello: 0,
  Challenging: 1,
  AwaitProof: 2,
  Verifying: 3,
  Authenticated: 4,
  Failed: 5,
} as const;
type Stage = (typeof Stage)[keyof typeof Stage];

interface Session {
  stage: Stage;
  principal: string;
  principalBytes: Uint8Array;
  clientNonce: Uint8Array;
  serverNonce: Uint8Array;
  key: CryptoKey | undefined;
  unknownPrincipal: boolean;
  /** `onAuthFailure` was already told (an unknown principal is reported at the hello). */
  reported: boolean;
  timer: TimerHandle | undefined;
}

const REFUSAL = "Ferry authentication required";

/**
 * Authenticates every connection of a server before anything else reaches it.
 *
 * @example
 * ```ts
 * import { OneForOneStreamManager, SharedSecretServer, TransportServer } from "ferry-transport";
 *
 * const secrets = new Map([["app-1", "at least sixteen bytes of secret"]]);
 * const auth = new SharedSecretServer({ secretFor: (principal) => secrets.get(principal) });
 * const server = new TransportServer(auth.serverOptions({
 *   rpcHandler: {
 *     receive(client, body) {
 *       console.log(`RPC from ${auth.principalOf(client)}`); // only authenticated ones get here
 *       return body;
 *     },
 *   },
 *   streamManager: new OneForOneStreamManager(),
 * }));
 * await server.close();
 * ```
 */
export class SharedSecretServer {
  /** Install as (the first) `interceptor` of the server; see `serverOptions`. */
  readonly interceptor: InboundInterceptor;
  readonly #sessions = new WeakMap<Peer, Session>();
  readonly #sharedKey: Promise<CryptoKey> | undefined;
  readonly #secretFor: SharedSecretServerOptions["secretFor"];
  readonly #authTimeoutMs: number;
  readonly #clock: Clock;
  readonly #onFailure: SharedSecretServerOptions["onAuthFailure"];

  constructor(options: SharedSecretServerOptions) {
    const where = "SharedSecretServer";
    if ((options?.secret === undefined) === (options?.secretFor === undefined)) {
      throw new InvalidArgumentError(`${where}: give exactly one of secret and secretFor`);
    }
    if (options.secretFor !== undefined && typeof options.secretFor !== "function") {
      throw new InvalidArgumentError(
        `${where}: secretFor must be a function, received ${typeof options.secretFor}`,
      );
    }
    this.#sharedKey = options.secret === undefined
      ? undefined
      : importSecret(options.secret, where);
    this.#sharedKey?.catch(() => {});
    this.#secretFor = options.secretFor;
    const timeout = options.authTimeoutMs ?? defaultLimits.authTimeoutMs;
    if (!Number.isFinite(timeout) || timeout < 0) {
      throw new InvalidArgumentError(
        `${where}: authTimeoutMs must be a finite number ≥ 0, received ${String(timeout)}`,
      );
    }
    this.#authTimeoutMs = timeout;
    this.#clock = options.clock ?? systemClock;
    this.#onFailure = options.onAuthFailure;
    this.interceptor = (message, client) => this.#intercept(message, client);
  }

  /** Whether `client` (a server-side connection) has authenticated. */
  isAuthenticated(client: Peer): boolean {
    return this.#sessions.get(client)?.stage === Stage.Authenticated;
  }

  /** The principal `client` authenticated as, or undefined. */
  principalOf(client: Peer): string | undefined {
    const session = this.#sessions.get(client);
    return session?.stage === Stage.Authenticated ? session.principal : undefined;
  }

  /**
   * `handler` behind the gate: the auth deadline starts when a connection opens, and a call that
   * somehow arrives unauthenticated (the interceptor not installed) is refused — fail closed.
   */
  wrapHandler(handler: RpcHandler): RpcHandler {
    return guardHandler(handler, {
      opened: (client) => this.#session(client),
      check: (client, what) => {
        if (!this.isAuthenticated(client)) {
          throw new AuthError(
            `${REFUSAL}: ${what} refused because the connection has not authenticated`,
          );
        }
      },
    });
  }

  /**
   * Server options with the gate installed: the handler wrapped, then the interceptors in order —
   * this gate, Ferry's extensions (`ferryResponder`: authenticated peers may ping, cancel and send
   * trace contexts), and any interceptor `options` already had.
   */
  serverOptions<T extends TransportServerOptions>(options: T): T {
    return gatedServerOptions(this, options);
  }

  #session(client: Peer): Session {
    let session = this.#sessions.get(client);
    if (session !== undefined) return session;
    const empty = new Uint8Array(0);
    session = {
      stage: Stage.AwaitHello,
      principal: "",
      principalBytes: empty,
      clientNonce: empty,
      serverNonce: empty,
      key: undefined,
      unknownPrincipal: false,
      reported: false,
      timer: undefined,
    };
    this.#sessions.set(client, session);
    if (this.#authTimeoutMs > 0) {
      const created = session;
      created.timer = startAuthDeadline(
        this.#clock,
        client,
        this.#authTimeoutMs,
        "authenticate",
        () => {
          created.timer = undefined;
          if (created.stage === Stage.Authenticated || created.stage === Stage.Failed) return false;
          created.stage = Stage.Failed;
          return true;
        },
        this.#onFailure,
      );
    }
    return session;
  }

  #intercept(message: Message, client: Peer): boolean {
    const session = this.#session(client);
    if (session.stage === Stage.Authenticated) return false;
    if (message.type === MessageType.RpcRequest) {
      const kind = controlKind(message.body);
      if (kind === ControlKind.AuthHello && session.stage === Stage.AwaitHello) {
        session.stage = Stage.Challenging;
        void this.#hello(client, session, message.requestId, controlFields(message.body));
        return true;
      }
      if (kind === ControlKind.AuthProof && session.stage === Stage.AwaitProof) {
        session.stage = Stage.Verifying;
        void this.#proof(client, session, message.requestId, controlFields(message.body));
        return true;
      }
      if (kind === ControlKind.AuthHello || kind === ControlKind.AuthProof) {
        this.#fail(
          client,
          session,
          message.requestId,
          new AuthError(`Unexpected auth message (kind 0x${kind.toString(16)}) at this stage`),
        );
        return true;
      }
    }
    refuseUnauthenticated(
      message,
      client,
      `${REFUSAL}: ${
        messageTypeName[message.type]
      } refused because the connection has not authenticated`,
    );
    return true;
  }

  async #hello(client: Peer, session: Session, requestId: Int64, fields: Uint8Array) {
    let hello: ReturnType<typeof decodeHello>;
    try {
      hello = decodeHello(fields);
    } catch (error) {
      // The peer's own hello was malformed: saying how helps it and reveals nothing.
      this.#fail(client, session, requestId, error, error instanceof AuthError);
      return;
    }
    try {
      const { key, unknown } = await this.#keyFor(hello.principal);
      const serverNonce = newNonce();
      const proof = await sign(key, "server", hello.principalBytes, hello.clientNonce, serverNonce);
      if (session.stage !== Stage.Challenging) return;
      if (unknown) {
        // The peer learns nothing yet (the exchange goes on with a throwaway key); the server does.
        session.reported = true;
        this.#onFailure?.(
          client.remoteAddress,
          new AuthError(`Unknown principal '${hello.principal}' (the exchange will fail)`),
        );
      }
      Object.assign(session, {
        principal: hello.principal,
        principalBytes: hello.principalBytes,
        clientNonce: hello.clientNonce,
        serverNonce,
        key,
        unknownPrincipal: unknown,
        stage: Stage.AwaitProof,
      });
      this.#reply(client, requestId, encodeControl(ControlKind.AuthChallenge, serverNonce, proof));
    } catch (error) {
      this.#fail(client, session, requestId, error);
    }
  }

  async #proof(client: Peer, session: Session, requestId: Int64, proof: Uint8Array) {
    try {
      const valid = await verify(
        session.key!,
        "client",
        proof,
        session.principalBytes,
        session.clientNonce,
        session.serverNonce,
      );
      if (session.stage !== Stage.Verifying) return;
      if (!valid || session.unknownPrincipal) {
        throw new AuthError(
          session.unknownPrincipal
            ? `Unknown principal '${session.principal}'`
            : `The proof for principal '${session.principal}' does not match its shared secret`,
        );
      }
      session.stage = Stage.Authenticated;
      this.#clock.clearTimer(session.timer);
      session.timer = undefined;
      this.#reply(client, requestId, encodeControl(ControlKind.AuthOk));
    } catch (error) {
      this.#fail(client, session, requestId, error);
    }
  }

  async #keyFor(principal: string): Promise<{ key: CryptoKey; unknown: boolean }> {
    if (this.#sharedKey !== undefined) return { key: await this.#sharedKey, unknown: false };
    const secret = await this.#secretFor!(principal);
    if (secret === undefined) {
      return {
        key: await importSecret(crypto.getRandomValues(new Uint8Array(32)), ""),
        unknown: true,
      };
    }
    return {
      key: await importSecret(secret, `SharedSecretServer secret of '${principal}'`),
      unknown: false,
    };
  }

  /** Ends the exchange; the peer hears why only when `disclose` (its own bytes were malformed). */
  #fail(
    client: Peer,
    session: Session,
    requestId: Int64,
    reason: unknown,
    disclose = false,
  ): void {
    if (session.stage === Stage.Failed) return;
    session.stage = Stage.Failed;
    this.#clock.clearTimer(session.timer);
    session.timer = undefined;
    if (!session.reported) this.#onFailure?.(client.remoteAddress, reason);
    session.reported = true;
    const text = disclose
      ? `Ferry authentication failed: ${describeError(reason)}`
      : "Ferry authentication failed";
    trySend(client, { type: MessageType.RpcFailure, requestId, error: text });
    client.close().catch(() => {});
  }

  #reply(client: Peer, requestId: Int64, body: Uint8Array): void {
    trySend(client, { type: MessageType.RpcResponse, requestId, body });
  }
}
