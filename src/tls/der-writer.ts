/**
 * A small ASN.1 DER writer: just the universal and context-specific types an X.509 v3 certificate
 * needs. Every function returns the complete encoding (tag, length, contents) of one value, so
 * structures are built bottom-up by nesting calls:
 *
 *     derSequence(derObjectIdentifier("1.2.840.10045.4.3.2"))
 *
 * Values are validated as they are encoded; a value DER cannot represent throws
 * `InvalidArgumentError` naming the value received.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** ASN.1 universal tags used here. */
const TAG_BOOLEAN = 0x01;
const TAG_INTEGER = 0x02;
const TAG_BIT_STRING = 0x03;
const TAG_OCTET_STRING = 0x04;
const TAG_OBJECT_IDENTIFIER = 0x06;
const TAG_UTF8_STRING = 0x0c;
const TAG_IA5_STRING = 0x16;
const TAG_UTC_TIME = 0x17;
const TAG_GENERALIZED_TIME = 0x18;
const TAG_SEQUENCE = 0x30;
const TAG_SET = 0x31;

/** Context-specific class bit and constructed bit of an identifier octet. */
const CLASS_CONTEXT = 0x80;
const CONSTRUCTED = 0x20;

/** Encodes one value with a single-octet identifier `tag` around `contents`. */
export function derValue(tag: number, contents: Uint8Array): Uint8Array {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xff || (tag & 0x1f) === 0x1f) {
    throw new InvalidArgumentError(
      `Cannot encode a DER value with identifier ${tag}: only single-octet tags below 31 are ` +
        `supported`,
    );
  }
  const length = encodeLength(contents.length);
  const out = new Uint8Array(1 + length.length + contents.length);
  out[0] = tag;
  out.set(length, 1);
  out.set(contents, 1 + length.length);
  return out;
}

/** Definite-length octets: short form below 128, long form (big-endian, minimal) above. */
function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest & 0xff);
  return Uint8Array.of(0x80 | octets.length, ...octets);
}

/** Concatenates already-encoded values. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** SEQUENCE of already-encoded elements, in order. */
export function derSequence(...elements: Uint8Array[]): Uint8Array {
  return derValue(TAG_SEQUENCE, concatBytes(elements));
}

/** SET OF already-encoded elements, sorted by their encodings as DER requires. */
export function derSetOf(...elements: Uint8Array[]): Uint8Array {
  const sorted = [...elements].sort(compareBytes);
  return derValue(TAG_SET, concatBytes(sorted));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

export function derBoolean(value: boolean): Uint8Array {
  return derValue(TAG_BOOLEAN, Uint8Array.of(value ? 0xff : 0x00));
}

/** INTEGER from a non-negative safe integer. */
export function derSmallInteger(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(
      `Cannot encode ${value} as a DER INTEGER: expected a non-negative safe integer`,
    );
  }
  const octets: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return derUnsignedInteger(Uint8Array.from(octets));
}

/**
 * INTEGER from big-endian unsigned magnitude bytes (a serial number, an ECDSA `r` or `s`):
 * leading zero octets are dropped and one is added back when the high bit is set, so the value
 * stays positive and minimal.
 */
export function derUnsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length && magnitude[start] === 0) start++;
  const digits = magnitude.subarray(start);
  if (digits.length === 0) return derValue(TAG_INTEGER, Uint8Array.of(0));
  if ((digits[0]! & 0x80) === 0) return derValue(TAG_INTEGER, digits.slice());
  const contents = new Uint8Array(digits.length + 1);
  contents.set(digits, 1);
  return derValue(TAG_INTEGER, contents);
}

/** BIT STRING holding whole octets (no unused bits), as signatures and keys are. */
export function derBitString(octets: Uint8Array): Uint8Array {
  const contents = new Uint8Array(octets.length + 1);
  contents.set(octets, 1);
  return derValue(TAG_BIT_STRING, contents);
}

/**
 * BIT STRING for a named-bit list (e.g. keyUsage): `bits` are the bit numbers that are set, bit 0
 * being the most significant bit of the first octet. Trailing zero bits are omitted, as DER
 * requires for named bit lists.
 */
export function derNamedBits(bits: readonly number[]): Uint8Array {
  for (const bit of bits) {
    if (!Number.isInteger(bit) || bit < 0 || bit > 255) {
      throw new InvalidArgumentError(`Cannot encode bit number ${bit}: expected 0..255`);
    }
  }
  if (bits.length === 0) return derValue(TAG_BIT_STRING, Uint8Array.of(0));
  const highest = Math.max(...bits);
  const octets = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const bit of bits) octets[bit >> 3]! |= 0x80 >> (bit & 7);
  const contents = new Uint8Array(octets.length + 1);
  contents[0] = 7 - (highest & 7);
  contents.set(octets, 1);
  return derValue(TAG_BIT_STRING, contents);
}

export function derOctetString(octets: Uint8Array): Uint8Array {
  return derValue(TAG_OCTET_STRING, octets);
}

/** OBJECT IDENTIFIER from dotted text, e.g. `2.5.29.17`. */
export function derObjectIdentifier(dotted: string): Uint8Array {
  const arcs = dotted.split(".").map((arc) => (/^\d+$/.test(arc) ? Number(arc) : NaN));
  const [first, second] = arcs;
  if (
    arcs.length < 2 || arcs.some((arc) => !Number.isSafeInteger(arc)) ||
    first! > 2 || (first! < 2 && second! >= 40)
  ) {
    throw new InvalidArgumentError(
      `Cannot encode ${JSON.stringify(dotted)} as an OBJECT IDENTIFIER: expected dotted ` +
        `decimal arcs like 2.5.29.17`,
    );
  }
  const octets: number[] = [];
  const pushBase128 = (value: number) => {
    const groups: number[] = [value % 128];
    for (let rest = Math.floor(value / 128); rest > 0; rest = Math.floor(rest / 128)) {
      groups.unshift(0x80 | (rest % 128));
    }
    octets.push(...groups);
  };
  pushBase128(first! * 40 + second!);
  for (const arc of arcs.slice(2)) pushBase128(arc);
  return derValue(TAG_OBJECT_IDENTIFIER, Uint8Array.from(octets));
}

export function derUtf8String(text: string): Uint8Array {
  return derValue(TAG_UTF8_STRING, new TextEncoder().encode(text));
}

/** IA5String: 7-bit ASCII only (DNS names in subjectAltName). */
export function derIa5String(text: string): Uint8Array {
  return derValue(TAG_IA5_STRING, ia5Contents(text));
}

/** The contents octets of an IA5String (for `[n] IMPLICIT IA5String` fields). */
export function ia5Contents(text: string): Uint8Array {
  return asciiBytes(text, "IA5String");
}

function asciiBytes(text: string, what: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) {
      throw new InvalidArgumentError(
        `Cannot encode ${JSON.stringify(text)} as an ${what}: character ${i} is not ASCII`,
      );
    }
    out[i] = code;
  }
  return out;
}

/**
 * An X.509 `Time`: UTCTime (`YYMMDDHHMMSSZ`) for years 1950..2049, GeneralizedTime
 * (`YYYYMMDDHHMMSSZ`) otherwise, as RFC 5280 §4.1.2.5 requires. Milliseconds are dropped.
 */
export function derTime(date: Date): Uint8Array {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) {
    throw new InvalidArgumentError(`Cannot encode an invalid Date as an X.509 time`);
  }
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) {
    throw new InvalidArgumentError(
      `Cannot encode the year ${year} as an X.509 time: expected 0..9999`,
    );
  }
  const two = (n: number) => String(n).padStart(2, "0");
  const rest = two(date.getUTCMonth() + 1) + two(date.getUTCDate()) + two(date.getUTCHours()) +
    two(date.getUTCMinutes()) + two(date.getUTCSeconds()) + "Z";
  if (year >= 1950 && year < 2050) {
    return derValue(TAG_UTC_TIME, asciiBytes(two(year % 100) + rest, "UTCTime"));
  }
  return derValue(
    TAG_GENERALIZED_TIME,
    asciiBytes(String(year).padStart(4, "0") + rest, "GeneralizedTime"),
  );
}

/** `[n] EXPLICIT`: a constructed context-specific wrapper around one encoded value. */
export function derExplicit(tagNumber: number, inner: Uint8Array): Uint8Array {
  return derValue(CLASS_CONTEXT | CONSTRUCTED | checkTagNumber(tagNumber), inner);
}

/**
 * `[n] IMPLICIT` for a primitive type: the contents octets of the underlying type under a
 * context-specific tag (e.g. GeneralName's `dNSName [2]` and `iPAddress [7]`).
 */
export function derImplicitPrimitive(tagNumber: number, contents: Uint8Array): Uint8Array {
  return derValue(CLASS_CONTEXT | checkTagNumber(tagNumber), contents);
}

function checkTagNumber(tagNumber: number): number {
  if (!Number.isInteger(tagNumber) || tagNumber < 0 || tagNumber > 30) {
    throw new InvalidArgumentError(
      `Cannot encode context-specific tag [${tagNumber}]: expected 0..30`,
    );
  }
  return tagNumber;
}
