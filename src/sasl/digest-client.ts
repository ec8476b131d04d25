/**
 * The client side of Spark's DIGEST-MD5 exchange, as a small state machine with no I/O: the JDK
 * client's behaviour under `SparkSaslClient` (no initial response, md5-sess, one qop wanted, the
 * `3des` cipher for auth-conf), producing byte-identical tokens given the same cnonce.
 *
 * ```
 * initialToken()          → empty token
 * respond(challenge)      → digest-response token
 * verifyRspauth(token)    → throws unless the server proved it knows the secret
 * ```
 *
 * @module
 */

import { AuthError, describeError, ProtocolError } from "../errors.ts";
import {
  digestValue,
  excerpt,
  newDigestNonce,
  NONCE_COUNT,
  parseDirectives,
  type Qop,
  quote,
  sessionKey,
  SPARK_DIGEST_URI,
  SPARK_MAXBUF,
  sparkSaslPassword,
  sparkSaslUsername,
} from "./digest-md5.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What the client state machine needs. */
export interface DigestMd5ClientOptions {
  /** Spark's application id, named in errors (the SaslMessage carries it, not the digest). */
  readonly appId: string;
  readonly secret: string | Uint8Array;
  /** `auth-conf` to require SASL encryption, `auth` for authentication only. */
  readonly qop: Qop;
  /** The cnonce (tests inject the recorded one); default 30 random bytes in base64. */
  readonly cnonce?: () => string;
}

/** One client exchange. Use once. */
export class DigestMd5Client {
  readonly #options: DigestMd5ClientOptions;
  #stage: "initial" | "challenged" | "done" = "initial";
  #rspauth = "";
  #ha1: Uint8Array | undefined;

  constructor(options: DigestMd5ClientOptions) {
    this.#options = options;
  }

  /** The first token: empty, as the JDK client has no initial response. */
  initialToken(): Uint8Array {
    return new Uint8Array(0);
  }

  /** The raw H(A1) of a completed exchange (the root of the auth-conf keys). */
  get sessionKey(): Uint8Array {
    if (this.#stage !== "done" || this.#ha1 === undefined) {
      throw new AuthError("The DIGEST-MD5 exchange has not completed");
    }
    return this.#ha1;
  }

  /**
   * Answers the server's challenge. Throws `AuthError` for a well-formed challenge Spark would not
   * send (the exchange failed), `ProtocolError` for text that is no DIGEST-MD5 challenge at all
   * (the peer does not speak SASL), so a caller tells the two apart by class, not by message.
   */
  respond(challengeToken: Uint8Array): Uint8Array {
    if (this.#stage !== "initial") throw new AuthError("DIGEST-MD5 client: challenged twice");
    const { appId, qop } = this.#options;
    const text = decoder.decode(challengeToken);
    let fields: Map<string, string>;
    try {
      fields = parseDirectives(text, "challenge");
    } catch (error) {
      throw new ProtocolError(describeError(error), { cause: error });
    }
    const fail = (why: string): never => {
      throw new AuthError(
        `SASL authentication of appId '${appId}' failed: ${why} (challenge ${
          JSON.stringify(excerpt(text))
        })`,
      );
    };
    const nonce = fields.get("nonce");
    if (nonce === undefined || nonce === "") fail("the server's challenge has no nonce");
    if (fields.get("algorithm") !== "md5-sess") fail("the challenge is not algorithm=md5-sess");
    const offered = (fields.get("qop") ?? "auth").split(",").map((q) => q.trim());
    if (!offered.includes(qop)) {
      fail(
        `qop mismatch: this client requires qop ${qop}${
          qop === "auth" ? " (authentication only)" : " (SASL encryption)"
        } but the server offers ${offered.join(",")}${
          qop === "auth" ? "; set encrypt: true to connect to it" : ""
        }`,
      );
    }
    if (qop === "auth-conf") {
      const ciphers = (fields.get("cipher") ?? "").split(",").map((c) => c.trim());
      if (!ciphers.includes("3des")) {
        fail(`the server offers no 3des cipher for auth-conf (it offers '${ciphers.join(",")}')`);
      }
    }
    const realm = fields.get("realm") ?? "";
    const cnonce = (this.#options.cnonce ?? newDigestNonce)();
    const params = {
      username: sparkSaslUsername(),
      password: sparkSaslPassword(this.#options.secret),
      realm,
      nonce: nonce!,
      cnonce,
      digestUri: SPARK_DIGEST_URI,
      qop,
    };
    this.#ha1 = sessionKey(params);
    this.#rspauth = digestValue(params, this.#ha1, true);
    const charset = fields.get("charset")?.toLowerCase() === "utf-8" ? "charset=utf-8," : "";
    const response = `${charset}username=${quote(params.username)},realm=${quote(realm)},` +
      `nonce=${quote(params.nonce)},nc=${NONCE_COUNT},cnonce=${quote(cnonce)},` +
      `digest-uri=${quote(SPARK_DIGEST_URI)},maxbuf=${SPARK_MAXBUF},` +
      `response=${digestValue(params, this.#ha1, false)},qop=${qop}` +
      (qop === "auth-conf" ? `,cipher=${quote("3des")}` : "");
    this.#stage = "challenged";
    return encoder.encode(response);
  }

  /** Checks the server's `rspauth`; throws `AuthError` unless it proves the same secret. */
  verifyRspauth(token: Uint8Array): void {
    if (this.#stage !== "challenged") {
      throw new AuthError("DIGEST-MD5 client: rspauth before the challenge was answered");
    }
    const text = decoder.decode(token);
    const fields = parseDirectives(text, "rspauth");
    if (fields.get("rspauth") !== this.#rspauth) {
      throw new AuthError(
        `SASL authentication of appId '${this.#options.appId}' failed: the server's rspauth ` +
          `does not prove it holds the secret (received ${JSON.stringify(excerpt(text))})`,
      );
    }
    this.#stage = "done";
  }
}
