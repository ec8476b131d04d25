/**
 * Base64 as Spark produces it for its SASL user name and password: Netty's `Base64.encode`, which
 * breaks the output with `"\n"` after every 76 characters (never at the end). Spark's generated
 * secrets are 64 hex characters, whose base64 is 88 characters and so carries a line break that
 * becomes part of the DIGEST-MD5 password: leaving it out fails with "Mismatched response".
 *
 * @module
 */

const LINE_LENGTH = 76;

/** Netty-style base64 of `bytes`, with a line break after every 76 output characters. */
export function nettyBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.byteLength; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  const plain = btoa(binary);
  let out = "";
  for (let i = 0; i < plain.length; i += LINE_LENGTH) {
    out += (i === 0 ? "" : "\n") + plain.slice(i, i + LINE_LENGTH);
  }
  return out;
}
