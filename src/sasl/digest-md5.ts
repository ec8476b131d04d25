/**
 * The DIGEST-MD5 computation (RFC 2831, `algorithm=md5-sess`) exactly as Spark's JDK peers do it,
 * and the directive syntax both sides exchange. Checked byte for byte against sessions recorded
 * from a live Spark 3.5.4 pair (`docs/spark-sasl.md`).
 *
 * Spark fixes every free parameter: realm `default`, digest-uri `null/default` (protocol `null`,
 * server name `default`), user `B64("sparkSaslUser")`, password `B64(secret)` in Netty's base64
 * (line break after 76 characters), nonce count `00000001`, no authzid.
 *
 * @module
 */

import { AuthError } from "../errors.ts";
import { md5, toHex } from "./md5.ts";
import { nettyBase64 } from "./netty-base64.ts";

/** The SASL user Spark derives for every appId (`SecurityManager.getSaslUser`). */
export const SPARK_SASL_USER = "sparkSaslUser";
export const SPARK_REALM = "default";
export const SPARK_DIGEST_URI = "null/default";
export const NONCE_COUNT = "00000001";
/** The receive buffer both JDK sides announce (and neither enforces). */
export const SPARK_MAXBUF = 65536;

/** Quality of protection: authentication only, or with SASL encryption. */
export type Qop = "auth" | "auth-conf";

const utf8 = new TextEncoder();
const ZEROS_A2 = ":00000000000000000000000000000000";

/** The user name Spark puts on the wire: Netty base64 of `sparkSaslUser`. */
export function sparkSaslUsername(): string {
  return nettyBase64(utf8.encode(SPARK_SASL_USER));
}

/** The password Spark hands to DIGEST-MD5 for `secret`: its Netty base64 (line breaks kept). */
export function sparkSaslPassword(secret: string | Uint8Array): string {
  return nettyBase64(typeof secret === "string" ? utf8.encode(secret) : secret);
}

/** What both sides feed the digest. */
export interface DigestParams {
  readonly username: string;
  readonly password: string;
  readonly realm: string;
  readonly nonce: string;
  readonly cnonce: string;
  readonly digestUri: string;
  readonly qop: Qop;
}

/** X = MD5(username ":" realm ":" password). */
export function userRealmPass(p: Pick<DigestParams, "username" | "realm" | "password">) {
  return md5(`${p.username}:${p.realm}:${p.password}`);
}

/** H(A1) = MD5(X ":" nonce ":" cnonce), raw — also the root of the auth-conf keys. */
export function sessionKey(p: DigestParams): Uint8Array {
  return md5(userRealmPass(p), `:${p.nonce}:${p.cnonce}`);
}

/**
 * The 32-hex digest: `response` (the client's, `forServer` false) or `rspauth` (the server's
 * answer, whose A2 has no "AUTHENTICATE" method).
 */
export function digestValue(p: DigestParams, ha1: Uint8Array, forServer: boolean): string {
  const a2 = `${forServer ? "" : "AUTHENTICATE"}:${p.digestUri}${p.qop === "auth" ? "" : ZEROS_A2}`;
  return toHex(
    md5(`${toHex(ha1)}:${p.nonce}:${NONCE_COUNT}:${p.cnonce}:${p.qop}:${toHex(md5(a2))}`),
  );
}

/** Longest directive list accepted from a peer, in characters. */
export const MAX_DIRECTIVES_LENGTH = 4096;

/**
 * Parses `name=value,name="quoted, value"` (RFC 2831 §7.1). Throws `AuthError` naming the problem
 * for malformed text, a repeated directive or text beyond `MAX_DIRECTIVES_LENGTH`.
 */
export function parseDirectives(text: string, what: string): Map<string, string> {
  if (text.length > MAX_DIRECTIVES_LENGTH) {
    throw new AuthError(
      `Malformed DIGEST-MD5 ${what}: ${text.length} characters, more than ${MAX_DIRECTIVES_LENGTH}`,
    );
  }
  const out = new Map<string, string>();
  let i = 0;
  const fail = (why: string): never => {
    throw new AuthError(
      `Malformed DIGEST-MD5 ${what}: ${why} at character ${i} of ${JSON.stringify(excerpt(text))}`,
    );
  };
  while (i < text.length) {
    while (text[i] === " " || text[i] === "\t" || text[i] === ",") i++;
    if (i >= text.length) break;
    const eq = text.indexOf("=", i);
    if (eq < 0) fail("a directive without '='");
    const name = text.slice(i, eq).trim().toLowerCase();
    if (!/^[a-z0-9-]+$/.test(name)) fail("a bad directive name");
    i = eq + 1;
    let value = "";
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) fail("an unterminated quoted value");
        const c = text[i++]!;
        if (c === '"') break;
        value += c === "\\" && i < text.length ? text[i++]! : c;
      }
    } else {
      const end = text.indexOf(",", i);
      value = text.slice(i, end < 0 ? text.length : end).trim();
      i = end < 0 ? text.length : end;
    }
    if (out.has(name)) fail(`directive '${name}' given twice`);
    out.set(name, value);
    while (text[i] === " " || text[i] === "\t") i++;
    if (i < text.length && text[i] !== ",") fail("expected ','");
  }
  return out;
}

/** A quoted directive value (backslash before '"' and '\'). */
export function quote(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** A short, printable excerpt of peer text for error messages. */
export function excerpt(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** A fresh nonce as the JDK makes them: 30 random bytes in base64 (40 characters). */
export function newDigestNonce(): string {
  return nettyBase64(crypto.getRandomValues(new Uint8Array(30)));
}
