/**
 * The server side of Spark's DIGEST-MD5 exchange, as a state machine with no I/O: the JDK server
 * under `SparkSaslServer` (realm `default`, server name `default`, protocol `null`), producing the
 * same challenge bytes given the same nonce and checking the response as the JDK does, with the
 * JDK's own failure texts where a Spark client may show them.
 *
 * ```
 * challenge()                  → challenge token
 * verify(response, password)   → rspauth token, or throws AuthError
 * ```
 *
 * The challenge offers the JDK's cipher list so that a Spark client sees exactly what a Spark
 * server sends; Ferry implements `3des` only (the cipher every JDK client picks from this list)
 * and refuses any other choice with a clear error.
 *
 * @module
 */

import { AuthError } from "../errors.ts";
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
  SPARK_REALM,
} from "./digest-md5.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The ciphers a JDK server offers with auth-conf, in its order. */
const JDK_CIPHERS = "3des,rc4,des,rc4-56,rc4-40";

/** What the server state machine needs. */
export interface DigestMd5ServerOptions {
  /** `["auth-conf", "auth"]` (Spark's default) or `["auth-conf"]` (always encrypt) or `["auth"]`. */
  readonly qops: readonly Qop[];
  /** The nonce (tests inject the recorded one); default 30 random bytes in base64. */
  readonly nonce?: () => string;
}

/** One server exchange. Use once. */
export class DigestMd5Server {
  readonly #qops: readonly Qop[];
  readonly #nonce: string;
  #stage: "initial" | "challenged" | "done" | "failed" = "initial";
  #qop: Qop = "auth";
  #ha1: Uint8Array | undefined;

  constructor(options: DigestMd5ServerOptions) {
    this.#qops = options.qops;
    this.#nonce = (options.nonce ?? newDigestNonce)();
  }

  /** The qop the client chose (once verified). */
  get qop(): Qop {
    return this.#qop;
  }

  /** The raw H(A1) of a verified exchange (the root of the auth-conf keys). */
  get sessionKey(): Uint8Array {
    if (this.#stage !== "done" || this.#ha1 === undefined) {
      throw new AuthError("The DIGEST-MD5 exchange has not completed");
    }
    return this.#ha1;
  }

  /** The challenge, answering the client's (empty) first token. */
  challenge(): Uint8Array {
    if (this.#stage !== "initial") throw new AuthError("DIGEST-MD5: Server at illegal state");
    this.#stage = "challenged";
    const ciphers = this.#qops.includes("auth-conf") ? `,cipher=${quote(JDK_CIPHERS)}` : "";
    return encoder.encode(
      `realm=${quote(SPARK_REALM)},nonce=${quote(this.#nonce)},qop=${
        quote(this.#qops.join(","))
      },charset=utf-8${ciphers},algorithm=md5-sess`,
    );
  }

  /**
   * Checks the client's digest-response against `password` (Spark's `B64(secret)`) and returns
   * the rspauth token. Throws `AuthError` with the JDK's message on any mismatch; the exchange
   * cannot be retried.
   */
  verify(responseToken: Uint8Array, password: string): Uint8Array {
    if (this.#stage !== "challenged") throw new AuthError("DIGEST-MD5: Server at illegal state");
    this.#stage = "failed";
    const text = decoder.decode(responseToken);
    const fields = parseDirectives(text, "response");
    const violation = (why: string): never => {
      throw new AuthError(`DIGEST-MD5: digest response format violation. ${why}`);
    };
    const username = fields.get("username");
    if (username === undefined) violation("Missing username.");
    if ((fields.get("realm") ?? "") !== SPARK_REALM) violation("Mismatched realm.");
    if (fields.get("nonce") !== this.#nonce) violation("Mismatched nonce.");
    if (fields.get("nc") !== NONCE_COUNT) violation("Nonce count does not match.");
    const cnonce = fields.get("cnonce");
    if (cnonce === undefined || cnonce === "") violation("Missing cnonce.");
    const qop = (fields.get("qop") ?? "auth") as Qop;
    if (!this.#qops.includes(qop)) {
      throw new AuthError(
        `DIGEST-MD5: server does not support  qop: ${excerpt(qop, 40)} (it offers ${
          this.#qops.join(",")
        })`,
      );
    }
    if (qop === "auth-conf" && fields.get("cipher")?.toLowerCase() !== "3des") {
      throw new AuthError(
        `DIGEST-MD5: Ferry supports only the 3des cipher for auth-conf, the client chose ${
          JSON.stringify(excerpt(fields.get("cipher") ?? "none", 40))
        }`,
      );
    }
    const uri = fields.get("digest-uri") ?? "";
    if (uri !== SPARK_DIGEST_URI) {
      throw new AuthError(
        `DIGEST-MD5: digest response format violation. Mismatched URI: ${
          excerpt(uri, 80)
        }; expecting: ${SPARK_DIGEST_URI}`,
      );
    }
    const params = {
      username: username!,
      password,
      realm: SPARK_REALM,
      nonce: this.#nonce,
      cnonce: cnonce!,
      digestUri: SPARK_DIGEST_URI,
      qop,
    };
    const ha1 = sessionKey(params);
    if (!sameText(digestValue(params, ha1, false), fields.get("response") ?? "")) {
      violation("Mismatched response.");
    }
    this.#stage = "done";
    this.#qop = qop;
    this.#ha1 = ha1;
    return encoder.encode(`rspauth=${digestValue(params, ha1, true)}`);
  }
}

/** Compares without an early exit, so timing does not reveal how much of a digest matched. */
function sameText(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
}
