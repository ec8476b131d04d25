/**
 * Authenticating a browser to the gateway over Ferry's control channel (`src/protocol/ferry-control.ts`):
 * the browser's first message is an RpcRequest whose body is the control prefix, kind 0x20 and the
 * credential bytes. The gateway answers it itself (kind 0xA0 on success; an RpcFailure and close
 * code 4401 otherwise) and never forwards it: the backend, Ferry or Spark, never sees it. The
 * credential travels inside the WebSocket, never in the URL, and is never logged or echoed.
 *
 * Browser side: {@linkcode gatewayTokenBootstrap} as a `ConnectionPool` bootstrap, or
 * {@linkcode authenticateToGateway} on a `TransportClient` you opened yourself.
 *
 * Server side: a {@linkcode GatewayAuthenticator} decides; {@linkcode bearerTokenAuthenticator} is
 * the built-in one (one shared token, compared through SHA-256 digests in constant time).
 *
 * @module
 */

import type { CallOptions } from "../deadline.ts";
import { AuthError, InvalidArgumentError, RemoteError } from "../errors.ts";
import {
  CONTROL_HEADER_LENGTH,
  CONTROL_MAGIC,
  controlFields,
  controlKind,
  describeBody,
} from "../protocol/ferry-control.ts";
import type { RpcCapableClient } from "../client/rpc-capable-client.ts";
import type { UpgradeRequest } from "../socket.ts";

/** Control kind of the browser's credential, and of the gateway's acceptance. */
export const GatewayControlKind = {
  Token: 0x20,
  TokenOk: 0xa0,
} as const;

/** Decides whether a credential is good for a session to `target`. Never log `credential`. */
export type GatewayAuthenticator = (
  credential: Uint8Array,
  context: { readonly target: string; readonly request: UpgradeRequest },
) => boolean | Promise<boolean>;

const encoder = new TextEncoder();

function controlBody(kind: number, fields: Uint8Array): Uint8Array {
  const body = new Uint8Array(CONTROL_HEADER_LENGTH + fields.byteLength);
  body.set(CONTROL_MAGIC, 0);
  body[CONTROL_MAGIC.byteLength] = kind;
  body.set(fields, CONTROL_HEADER_LENGTH);
  return body;
}

function tokenBytes(token: string | Uint8Array, where: string): Uint8Array {
  if (typeof token === "string") {
    if (token.length === 0) throw new InvalidArgumentError(`${where}: the token is empty`);
    return encoder.encode(token);
  }
  if (token instanceof Uint8Array && token.byteLength > 0) return token.slice();
  throw new InvalidArgumentError(
    `${where}: expected a non-empty string or Uint8Array token, got ${
      token instanceof Uint8Array ? "an empty Uint8Array" : typeof token
    }`,
  );
}

/** The RpcRequest body carrying `credential` (what the browser sends first). */
export function encodeGatewayToken(credential: Uint8Array): Uint8Array {
  return controlBody(GatewayControlKind.Token, credential);
}

/** The gateway's reply to an accepted credential. */
export function encodeGatewayTokenOk(): Uint8Array {
  return controlBody(GatewayControlKind.TokenOk, new Uint8Array(0));
}

/** The credential of a token message (a view), or undefined when `body` is not one. */
export function decodeGatewayToken(body: Uint8Array): Uint8Array | undefined {
  return controlKind(body) === GatewayControlKind.Token ? controlFields(body) : undefined;
}

/**
 * Sends `token` to the gateway on `client` and waits for its acceptance. Rejects with `AuthError`
 * when the gateway refuses it (it then closes the connection with code 4401) or answers with
 * something that is not the gateway's acceptance.
 *
 * @example
 * ```ts
 * import { TransportClient } from "ferry-transport";
 * import { authenticateToGateway } from "ferry-transport/gateway";
 * import { webSocketConnect } from "ferry-transport/websocket";
 *
 * const client = await TransportClient.connect(
 *   webSocketConnect({ url: "wss://gateway.example.com/gateway/files" }),
 * );
 * await authenticateToGateway(client, "a bearer token for the pages", { timeoutMs: 5_000 });
 * await client.close();
 * ```
 */
export async function authenticateToGateway(
  client: RpcCapableClient,
  token: string | Uint8Array,
  options?: CallOptions,
): Promise<void> {
  const body = encodeGatewayToken(tokenBytes(token, "authenticateToGateway"));
  let reply: Uint8Array;
  try {
    reply = await client.sendRpc(body, options);
  } catch (error) {
    if (error instanceof RemoteError) {
      throw new AuthError(
        `Authenticating to the gateway at ${client.remoteAddress ?? "the peer"} failed: ` +
          error.remoteMessage,
        { cause: error },
      );
    }
    throw error;
  } finally {
    body.fill(0);
  }
  if (controlKind(reply) !== GatewayControlKind.TokenOk) {
    throw new AuthError(
      `Authenticating to the gateway at ${client.remoteAddress ?? "the peer"} failed: expected ` +
        `the gateway's acceptance, received ${describeBody(reply)} (is this a Ferry gateway?)`,
    );
  }
}

/**
 * A `ConnectionPool` bootstrap (browser side) that authenticates every new connection to the
 * gateway with `token` before the pool hands it out.
 *
 * @example
 * ```ts
 * import { gatewayTokenBootstrap } from "ferry-transport/gateway";
 * import { ConnectionPool, transportConnector } from "ferry-transport/pool";
 * import { webSocketConnect } from "ferry-transport/websocket";
 *
 * const pool = new ConnectionPool({
 *   connector: transportConnector(() =>
 *     webSocketConnect({ url: "wss://gateway.example.com/gateway/files" })
 *   ),
 *   bootstraps: [gatewayTokenBootstrap("a bearer token for the pages")],
 *   maxStreamsPerConnection: 1, // a lease is a session
 * });
 * await pool.close();
 * ```
 */
export function gatewayTokenBootstrap(
  token: string | Uint8Array,
): (
  client: RpcCapableClient,
  context: { timeoutMs: number; signal: AbortSignal },
) => Promise<void> {
  const bytes = tokenBytes(token, "gatewayTokenBootstrap");
  return (client, context) =>
    authenticateToGateway(client, bytes, { timeoutMs: context.timeoutMs, signal: context.signal });
}

/**
 * The built-in authenticator: one bearer token. Both sides are hashed with SHA-256 and the digests
 * compared in constant time, so neither the length nor a prefix of the token leaks through timing.
 *
 * @example
 * ```ts
 * import { bearerTokenAuthenticator, Gateway } from "ferry-transport/gateway";
 *
 * // The same as `token: …`; write your own GatewayAuthenticator to check tokens another way.
 * const gateway = new Gateway({
 *   targets: { files: { host: "127.0.0.1", port: 7337 } },
 *   allowedOrigins: ["https://app.example.com"],
 *   authenticate: bearerTokenAuthenticator("a bearer token for the pages"),
 * });
 * await gateway.close();
 * ```
 */
export function bearerTokenAuthenticator(token: string | Uint8Array): GatewayAuthenticator {
  const bytes = tokenBytes(token, "bearerTokenAuthenticator") as Uint8Array<ArrayBuffer>;
  const expected = crypto.subtle.digest("SHA-256", bytes);
  return async (credential) => {
    const [want, got] = await Promise.all([
      expected,
      crypto.subtle.digest("SHA-256", credential.slice() as Uint8Array<ArrayBuffer>),
    ]);
    const a = new Uint8Array(want);
    const b = new Uint8Array(got);
    let difference = 0;
    for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
    return difference === 0;
  };
}
