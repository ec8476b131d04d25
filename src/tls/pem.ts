/**
 * PEM (RFC 7468) text for DER bytes and back: `-----BEGIN <label>-----`, base64 in lines of 64
 * characters, `-----END <label>-----`. Web-platform only (`btoa`/`atob`).
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** DER bytes as one PEM block with `label` (e.g. `CERTIFICATE`, `PRIVATE KEY`), ending in `\n`. */
export function encodePem(label: string, der: Uint8Array): string {
  let binary = "";
  const step = 0x8000;
  for (let i = 0; i < der.length; i += step) {
    binary += String.fromCharCode(...der.subarray(i, i + step));
  }
  const base64 = btoa(binary);
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * The DER bytes of the first PEM block labelled `label` in `text`.
 * @throws InvalidArgumentError when there is no such block or its body is not base64.
 */
export function decodePem(label: string, text: string): Uint8Array {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(
    `-----BEGIN ${escaped}-----([\\s\\S]*?)-----END ${escaped}-----`,
  ).exec(text);
  if (!match) {
    throw new InvalidArgumentError(
      `Expected a PEM block labelled '${label}', found none in ${text.length} characters of text`,
    );
  }
  const body = match[1]!.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) {
    throw new InvalidArgumentError(
      `The PEM block '${label}' is not valid base64 (${body.length} characters)`,
    );
  }
  const binary = atob(body);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
