/**
 * The client half of Spark's SASL authentication (`SaslClientBootstrap`), for `TransportClient`
 * and as a `ConnectionPool` bootstrap: it runs on every new connection before it is handed out,
 * so a Ferry client can reach a Spark server (or an external shuffle service) that runs with
 * `spark.authenticate=true`.
 *
 * ```ts
 * const pool = new ConnectionPool({
 *   connector: transportConnector((route) => withSaslLayer(tcpConnect(route as RouteAddress))),
 *   bootstraps: [sparkSaslBootstrap({ appId: "app-1", secret, encrypt: true })],
 * });
 * ```
 *
 * With `encrypt: true` the client asks for qop `auth-conf` (Spark's
 * `spark.authenticate.enableSaslEncryption`) and the connection must have been opened through
 * `withSaslLayer`, which then wraps all further traffic; without it, qop `auth`.
 *
 * @module
 */

import type { RpcCapableClient } from "../client/rpc-capable-client.ts";
import { AuthError, describeError, InvalidArgumentError, RemoteError } from "../errors.ts";
import type { BootstrapContext } from "../pool/pool-options.ts";
import type { SocketInfo } from "../socket.ts";
import { DigestMd5Client } from "./digest-client.ts";
import { excerpt } from "./digest-md5.ts";
import { SaslCipher } from "./sasl-cipher.ts";
import { encodeSaslMessage, MAX_APP_ID_LENGTH } from "./sasl-message.ts";
import { saslLayerOf } from "./sasl-socket.ts";

/** Who the client is to Spark and the secret it shares with the server. */
export interface SparkSaslClientOptions {
  /** Spark's application id; the server looks the secret up by it. */
  readonly appId: string;
  /** The shared secret (`spark.authenticate.secret`); a string is used as its UTF-8 bytes. */
  readonly secret: string | Uint8Array;
  /** Require SASL encryption (qop auth-conf, 3DES). Default false (qop auth). */
  readonly encrypt?: boolean;
  /** The cnonce of each exchange (tests); default 30 random bytes from `crypto.getRandomValues`. */
  readonly cnonce?: () => string;
}

/** A connection the bootstrap can authenticate. */
export type SaslCapableClient = RpcCapableClient & { readonly info?: SocketInfo };

/** Authenticates one connection; rejects with `AuthError` (or the RPC's own timeout/close). */
export type SparkSaslBootstrap = (
  client: SaslCapableClient,
  context: Pick<BootstrapContext, "timeoutMs" | "signal">,
) => Promise<void>;

/**
 * A bootstrap that runs Spark's SASL exchange on every new connection.
 *
 * @example
 * ```ts
 * import { ConnectionPool, transportConnector } from "ferry-transport/pool";
 * import { sparkSaslBootstrap, withSaslLayer } from "ferry-transport/sasl";
 * import { tcpConnect } from "ferry-transport/node";
 *
 * const pool = new ConnectionPool({
 *   connector: transportConnector(() =>
 *     withSaslLayer(tcpConnect({ host: "spark-host", port: 7337 }))
 *   ),
 *   bootstraps: [sparkSaslBootstrap({ appId: "app-1", secret: "the secret", encrypt: true })],
 * });
 * await pool.close();
 * ```
 */
export function sparkSaslBootstrap(options: SparkSaslClientOptions): SparkSaslBootstrap {
  const where = "sparkSaslBootstrap";
  const appId = options?.appId;
  if (typeof appId !== "string" || appId === "" || appId.length > MAX_APP_ID_LENGTH) {
    throw new InvalidArgumentError(
      `${where}: appId must be a non-empty string of at most ${MAX_APP_ID_LENGTH} characters, received ${
        JSON.stringify(typeof appId === "string" ? excerpt(appId, 40) : typeof appId)
      }`,
    );
  }
  const secret = options.secret;
  if (
    !(typeof secret === "string" || secret instanceof Uint8Array) || secret.length === 0
  ) {
    throw new InvalidArgumentError(`${where}: secret must be a non-empty string or Uint8Array`);
  }
  const qop = options.encrypt === true ? "auth-conf" : "auth";
  return async (client, context) => {
    const layer = saslLayerOf(client);
    if (qop === "auth-conf" && layer === undefined) {
      throw new InvalidArgumentError(
        `${where}: encrypt: true needs the connection to be opened through withSaslLayer(connect)`,
      );
    }
    const peer = client.remoteAddress ?? "the server";
    const callOptions = { timeoutMs: context.timeoutMs, signal: context.signal };
    const digest = new DigestMd5Client({ appId, secret, qop, cnonce: options.cnonce });
    const send = async (token: Uint8Array, step: string) => {
      try {
        return await client.sendRpc(encodeSaslMessage(appId, token), callOptions);
      } catch (error) {
        if (!(error instanceof RemoteError)) throw error;
        const first = firstLine(error.remoteMessage);
        throw new AuthError(
          `SASL authentication of appId '${appId}' to ${peer} failed: the server refused the ${step}: ${
            excerpt(first, 300)
          }${
            first.includes("Expected SaslMessage") || first.includes("authentication required")
              ? " (the server does not expect Spark SASL: is spark.authenticate enabled there?)"
              : ""
          }`,
          { cause: error },
        );
      }
    };
    const challenge = await send(digest.initialToken(), "SASL hello");
    let response: Uint8Array;
    try {
      response = digest.respond(challenge);
    } catch (error) {
      // A well-formed challenge this client refuses: the digest client's error says why.
      if (error instanceof AuthError) throw error;
      throw new AuthError(
        `SASL authentication of appId '${appId}' to ${peer} failed: the reply to the SASL hello ` +
          `is not a DIGEST-MD5 challenge (does the server run Spark SASL?): ${
            describeError(error)
          }`,
        { cause: error },
      );
    }
    const rspauth = await send(response, "digest-response");
    digest.verifyRspauth(rspauth);
    if (qop === "auth-conf") layer!.startEncryption(new SaslCipher(digest.sessionKey, "client"));
    else layer?.stayPlain();
  };
}

/** A Java stack trace's first line: what went wrong, without the frames. */
export function firstLine(text: string): string {
  const end = text.indexOf("\n");
  return (end < 0 ? text : text.slice(0, end)).trimEnd();
}
