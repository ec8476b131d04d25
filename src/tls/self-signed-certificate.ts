/**
 * Generates a self-signed X.509 v3 certificate for tests and local development, with WebCrypto
 * only, so it runs unchanged in Node, Deno and browsers:
 *
 *     const { certPem, keyPem } = await generateSelfSignedCertificate();
 *     // Node: tls.createServer({ cert: certPem, key: keyPem }); client { ca: certPem }
 *     // Deno: listenTls({ cert: certPem, key: keyPem }); client { caCerts: [certPem] }
 *
 * The key is ECDSA P-256; the certificate is signed with ecdsa-with-SHA256 by its own key. It is
 * an end-entity certificate (basicConstraints cA FALSE, critical; keyUsage digitalSignature;
 * extKeyUsage serverAuth and clientAuth) whose subjectAltName lists the DNS names and IP
 * addresses it is valid for, so a client that trusts exactly this certificate can verify a
 * connection to `localhost`, `127.0.0.1` or `::1`. Validity starts one hour in the past (clock
 * skew) and lasts `validDays` from now.
 *
 * @module
 */

import { InvalidArgumentError, TransportError } from "../errors.ts";
import {
  derBitString,
  derBoolean,
  derExplicit,
  derImplicitPrimitive,
  derNamedBits,
  derObjectIdentifier,
  derOctetString,
  derSequence,
  derSetOf,
  derSmallInteger,
  derTime,
  derUnsignedInteger,
  derUtf8String,
  ia5Contents,
} from "./der-writer.ts";
import { parseIpAddress } from "./ip-address.ts";
import { encodePem } from "./pem.ts";

export interface SelfSignedCertificateOptions {
  /** Subject and issuer common name. Default `localhost`. At most 64 characters. */
  readonly commonName?: string;
  /**
   * subjectAltName entries: IP address literals become `iPAddress`, anything else must be a DNS
   * name (a leading `*.` wildcard label is allowed) and becomes `dNSName`. Default
   * `["localhost", "127.0.0.1", "::1"]`. Empty omits the extension.
   */
  readonly altNames?: readonly string[];
  /** How long the certificate is valid from now, in days (fractions allowed). Default 7. */
  readonly validDays?: number;
}

export interface SelfSignedCertificate {
  /** The certificate, PEM `CERTIFICATE`. */
  readonly certPem: string;
  /** The private key, PEM `PRIVATE KEY` (unencrypted PKCS#8). */
  readonly keyPem: string;
}

const OID_ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";
const OID_COMMON_NAME = "2.5.4.3";
const OID_SUBJECT_KEY_IDENTIFIER = "2.5.29.14";
const OID_KEY_USAGE = "2.5.29.15";
const OID_SUBJECT_ALT_NAME = "2.5.29.17";
const OID_BASIC_CONSTRAINTS = "2.5.29.19";
const OID_EXT_KEY_USAGE = "2.5.29.37";
const OID_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const OID_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

const KEY_USAGE_DIGITAL_SIGNATURE = 0;
const GENERAL_NAME_DNS = 2;
const GENERAL_NAME_IP = 7;
const P256_COORDINATE_BYTES = 32;
const DAY_MS = 86_400_000;
const CLOCK_SKEW_MS = 3_600_000;
const MAX_VALID_DAYS = 36_500;
const MAX_COMMON_NAME_LENGTH = 64;

/**
 * @throws InvalidArgumentError for an unusable option (the value is named in the message);
 *   TransportError when WebCrypto's `crypto.subtle` is unavailable (e.g. an insecure browser
 *   context).
 */
export async function generateSelfSignedCertificate(
  options: SelfSignedCertificateOptions = {},
): Promise<SelfSignedCertificate> {
  const commonName = checkCommonName(options.commonName ?? "localhost");
  const altNames = (options.altNames ?? ["localhost", "127.0.0.1", "::1"]).map(encodeAltName);
  const validDays = checkValidDays(options.validDays ?? 7);
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) {
    throw new TransportError(
      "Cannot generate a certificate: WebCrypto (crypto.subtle) is not available in this " +
        "runtime or context",
    );
  }

  const keys = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const spki = new Uint8Array(await subtle.exportKey("spki", keys.publicKey));
  const pkcs8 = new Uint8Array(await subtle.exportKey("pkcs8", keys.privateKey));

  const now = Date.now();
  const name = derSequence(
    derSetOf(derSequence(derObjectIdentifier(OID_COMMON_NAME), derUtf8String(commonName))),
  );
  const signatureAlgorithm = derSequence(
    derObjectIdentifier(OID_ECDSA_WITH_SHA256),
  );
  const extensions = [
    extension(OID_BASIC_CONSTRAINTS, true, derSequence()),
    extension(OID_KEY_USAGE, true, derNamedBits([KEY_USAGE_DIGITAL_SIGNATURE])),
    extension(
      OID_EXT_KEY_USAGE,
      false,
      derSequence(derObjectIdentifier(OID_SERVER_AUTH), derObjectIdentifier(OID_CLIENT_AUTH)),
    ),
    extension(
      OID_SUBJECT_KEY_IDENTIFIER,
      false,
      derOctetString(await keyIdentifier(subtle, spki)),
    ),
  ];
  if (altNames.length > 0) {
    extensions.push(extension(OID_SUBJECT_ALT_NAME, false, derSequence(...altNames)));
  }
  const tbsCertificate = derSequence(
    derExplicit(0, derSmallInteger(2)), // version: v3
    derUnsignedInteger(randomSerialNumber()),
    signatureAlgorithm,
    name, // issuer
    derSequence(
      derTime(new Date(now - CLOCK_SKEW_MS)),
      derTime(new Date(now + validDays * DAY_MS)),
    ),
    name, // subject
    spki,
    derExplicit(3, derSequence(...extensions)),
  );

  const rawSignature = new Uint8Array(
    await subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      keys.privateKey,
      tbsCertificate as Uint8Array<ArrayBuffer>,
    ),
  );
  const certificate = derSequence(
    tbsCertificate,
    signatureAlgorithm,
    derBitString(ecdsaSignatureToDer(rawSignature)),
  );
  return {
    certPem: encodePem("CERTIFICATE", certificate),
    keyPem: encodePem("PRIVATE KEY", pkcs8),
  };
}

/**
 * WebCrypto's ECDSA signature is the fixed-size concatenation `r || s`; X.509 wants
 * `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }`.
 */
export function ecdsaSignatureToDer(raw: Uint8Array): Uint8Array {
  if (raw.length !== 2 * P256_COORDINATE_BYTES) {
    throw new TransportError(
      `Expected a P-256 ECDSA signature of ${2 * P256_COORDINATE_BYTES} bytes (r || s), ` +
        `got ${raw.length} bytes`,
    );
  }
  return derSequence(
    derUnsignedInteger(raw.subarray(0, P256_COORDINATE_BYTES)),
    derUnsignedInteger(raw.subarray(P256_COORDINATE_BYTES)),
  );
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical
    ? derSequence(derObjectIdentifier(oid), derBoolean(true), derOctetString(value))
    : derSequence(derObjectIdentifier(oid), derOctetString(value));
}

/** RFC 7093 §2 method 1: the leftmost 160 bits of SHA-256 over the whole SubjectPublicKeyInfo. */
async function keyIdentifier(subtle: SubtleCrypto, spki: Uint8Array): Promise<Uint8Array> {
  const digest = await subtle.digest("SHA-256", spki as Uint8Array<ArrayBuffer>);
  return new Uint8Array(digest, 0, 20);
}

/** 127 random bits: positive, at most 20 octets and non-zero, as RFC 5280 §4.1.2.2 requires. */
function randomSerialNumber(): Uint8Array {
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0]! &= 0x7f;
  serial[15]! |= 0x01;
  return serial;
}

function encodeAltName(name: string): Uint8Array {
  if (typeof name !== "string") {
    throw new InvalidArgumentError(
      `Expected each altName to be a string, got ${typeof name} (${String(name)})`,
    );
  }
  const ip = parseIpAddress(name);
  if (ip !== undefined) return derImplicitPrimitive(GENERAL_NAME_IP, ip);
  if (!isDnsName(name)) {
    throw new InvalidArgumentError(
      `Invalid altName ${JSON.stringify(name)}: expected an IPv4/IPv6 address literal or a DNS ` +
        `name (letters, digits, hyphens; labels of 1..63 characters, the last not all digits; ` +
        `an optional leading '*.')`,
    );
  }
  return derImplicitPrimitive(GENERAL_NAME_DNS, ia5Contents(name.toLowerCase()));
}

function isDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split(".");
  // An all-numeric last label reads as a (malformed) IPv4 address, never as a DNS name.
  if (/^\d+$/.test(labels[labels.length - 1]!)) return false;
  return labels.every((label, i) =>
    (i === 0 && label === "*" && labels.length > 1) ||
    /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label)
  );
}

function checkCommonName(commonName: string): string {
  if (
    typeof commonName !== "string" || commonName.length === 0 ||
    commonName.length > MAX_COMMON_NAME_LENGTH
  ) {
    throw new InvalidArgumentError(
      `Invalid commonName ${JSON.stringify(commonName)}: expected 1..${MAX_COMMON_NAME_LENGTH} ` +
        `characters`,
    );
  }
  return commonName;
}

function checkValidDays(validDays: number): number {
  if (typeof validDays !== "number" || !(validDays > 0 && validDays <= MAX_VALID_DAYS)) {
    throw new InvalidArgumentError(
      `Invalid validDays ${String(validDays)}: expected a number of days above 0 and at most ` +
        `${MAX_VALID_DAYS}`,
    );
  }
  return validDays;
}
