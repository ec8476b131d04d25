/**
 * The client half of Ferry's shared-secret authentication (protocol in
 * `shared-secret-protocol.ts`), as a `ConnectionPool` bootstrap — the counterpart of Spark's
 * `AuthClientBootstrap`. It runs on every new pooled connection before the connection is handed
 * out; if it fails the pool closes the connection and fails the lease with its error.
 *
 * ```ts
 * const pool = new ConnectionPool({
 *   connector: transportConnector((route) => tcpConnect(route as RouteAddress)),
 *   bootstraps: [sharedSecretBootstrap({ principal: "app-1", secret })],
 *   validate: ferryPingValidator(),
 * });
 * ```
 *
 * Success proves the peer is a Ferry server holding the same secret, so the bootstrap adds the
 * `"ferry"` peer feature: from then on the pool may validate the connection with real pings.
 *
 * @module
 */

import { AuthError, describeError, RemoteError } from "../errors.ts";
import {
  controlFields,
  ControlKind,
  controlKind,
  describeBody,
  encodeControl,
} from "../protocol/ferry-control.ts";
import type { RpcCapableClient } from "../client/rpc-capable-client.ts";
import { FERRY_PEER_FEATURE } from "../extensions/ferry-peer.ts";
import type { BootstrapContext } from "../pool/pool-options.ts";
import {
  encodeHello,
  encodePrincipal,
  importSecret,
  newNonce,
  NONCE_LENGTH,
  PROOF_LENGTH,
  type SharedSecret,
  sign,
  verify,
} from "./shared-secret-protocol.ts";

/** Who the client is and the secret it shares with the server. */
export interface SharedSecretClientOptions {
  /** The identity the server looks the secret up by (Spark's appId). */
  readonly principal: string;
  /** At least 16 bytes; a string is used as its UTF-8 bytes. */
  readonly secret: SharedSecret;
}

/**
 * Authenticates `client` (or throws `AuthError`; a deadline or a lost connection rejects with
 * that error instead). `context` supplies the deadline and signal, and receives the `"ferry"`
 * feature on success.
 */
export type SharedSecretBootstrap = (
  client: RpcCapableClient,
  context: Pick<BootstrapContext, "timeoutMs" | "signal" | "peerFeatures">,
) => Promise<void>;

/**
 * A bootstrap that authenticates every new connection with the shared secret.
 *
 * @example
 * ```ts
 * import { sharedSecretBootstrap, TransportClient } from "ferry-transport";
 * import { ferryCancelBootstrap } from "ferry-transport/extensions";
 * import { ConnectionPool, type Route } from "ferry-transport/pool";
 * import { tcpConnect } from "ferry-transport/node";
 *
 * const address = (route: Route) =>
 *   typeof route === "string" ? { host: route, port: 7337 } : route;
 * const pool = new ConnectionPool({
 *   connector: (route, options) => TransportClient.connect(tcpConnect(address(route)), options),
 *   // Authenticate first; the cancel extension then knows the peer is Ferry.
 *   bootstraps: [
 *     sharedSecretBootstrap({ principal: "app-1", secret: "at least sixteen bytes of secret" }),
 *     ferryCancelBootstrap(),
 *   ],
 * });
 * await pool.close();
 * ```
 */
export function sharedSecretBootstrap(options: SharedSecretClientOptions): SharedSecretBootstrap {
  const where = "sharedSecretBootstrap";
  const principal = encodePrincipal(options?.principal, where);
  const name = options.principal;
  const key = importSecret(options.secret, where); // throws now for a bad secret
  key.catch(() => {}); // a failed import surfaces on the first connection instead
  return async (client, context) => {
    const callOptions = { timeoutMs: context.timeoutMs, signal: context.signal };
    const peer = client.remoteAddress ?? "the server";
    const clientNonce = newNonce();
    const challenge = await exchange(
      client,
      encodeControl(ControlKind.AuthHello, encodeHello(principal, clientNonce)),
      callOptions,
      `Authenticating to ${peer} as '${name}' failed: the server refused the hello (is it a Ferry server with shared-secret authentication enabled?)`,
    );
    const fields = controlFields(challenge);
    if (
      controlKind(challenge) !== ControlKind.AuthChallenge ||
      fields.byteLength !== NONCE_LENGTH + PROOF_LENGTH
    ) {
      throw new AuthError(
        `Authenticating to ${peer} as '${name}' failed: expected a Ferry auth challenge, received ${
          describeBody(challenge)
        }`,
      );
    }
    const serverNonce = fields.slice(0, NONCE_LENGTH);
    const serverProof = fields.slice(NONCE_LENGTH);
    const secretKey = await key;
    if (!(await verify(secretKey, "server", serverProof, principal, clientNonce, serverNonce))) {
      throw new AuthError(
        `Authenticating to ${peer} as '${name}' failed: the server did not prove it holds the shared secret`,
      );
    }
    const proof = await sign(secretKey, "client", principal, clientNonce, serverNonce);
    const ok = await exchange(
      client,
      encodeControl(ControlKind.AuthProof, proof),
      callOptions,
      `Authenticating to ${peer} as '${name}' failed: the server rejected the proof`,
    );
    if (controlKind(ok) !== ControlKind.AuthOk) {
      throw new AuthError(
        `Authenticating to ${peer} as '${name}' failed: expected a Ferry auth confirmation, received ${
          describeBody(ok)
        }`,
      );
    }
    context.peerFeatures.add(FERRY_PEER_FEATURE);
  };
}

async function exchange(
  client: RpcCapableClient,
  body: Uint8Array,
  options: { timeoutMs: number; signal: AbortSignal },
  refused: string,
): Promise<Uint8Array> {
  try {
    return await client.sendRpc(body, options);
  } catch (error) {
    if (error instanceof RemoteError) {
      throw new AuthError(`${refused}: ${describeError(error.remoteMessage)}`, { cause: error });
    }
    throw error;
  }
}
