/**
 * The self-signed certificate, read back with an independent DER reader and verified with
 * WebCrypto: structure, names, validity, extensions, and a signature that really verifies under
 * the certificate's own public key, whose private half is the exported PKCS#8 key.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ecdsaSignatureToDer,
  generateSelfSignedCertificate,
} from "../../../src/tls/self-signed-certificate.ts";
import { decodePem } from "../../../src/tls/pem.ts";
import { InvalidArgumentError } from "../../../src/errors.ts";
import { derChildren, type DerNode, derOidText, hex, readDer } from "../../helpers/der-reader.ts";

const ECDSA_SHA256 = "1.2.840.10045.4.3.2";

interface ParsedCertificate {
  tbs: DerNode;
  version: number;
  serial: Uint8Array;
  signatureOid: string;
  outerSignatureOid: string;
  issuer: Uint8Array;
  subject: Uint8Array;
  commonName: string;
  notBefore: Date;
  notAfter: Date;
  spki: Uint8Array;
  extensions: Map<string, { critical: boolean; value: Uint8Array }>;
  signature: Uint8Array;
}

function parseCertificate(der: Uint8Array): ParsedCertificate {
  const [tbs, outerAlgorithm, signatureBits, ...extra] = derChildren(readDer(der));
  assert.equal(extra.length, 0);
  assert.equal(signatureBits!.tag, 0x03);
  assert.equal(signatureBits!.contents[0], 0, "whole-octet signature");
  const fields = derChildren(tbs!);
  assert.equal(fields.length, 8, "version, serial, alg, issuer, validity, subject, spki, exts");
  const [versionTag, serial, algorithm, issuer, validity, subject, spki, extensionsTag] = fields;
  assert.equal(versionTag!.tag, 0xa0);
  assert.equal(extensionsTag!.tag, 0xa3);
  const version = derChildren(versionTag!)[0]!;
  assert.equal(serial!.tag, 0x02);
  const extensions = new Map<string, { critical: boolean; value: Uint8Array }>();
  for (const extension of derChildren(derChildren(extensionsTag!)[0]!)) {
    const parts = derChildren(extension);
    const oid = derOidText(parts[0]!);
    assert.ok(!extensions.has(oid), `duplicate extension ${oid}`);
    const critical = parts.length === 3;
    if (critical) assert.equal(hex(parts[1]!.encoded), "0101ff");
    extensions.set(oid, { critical, value: parts[parts.length - 1]!.contents });
  }
  const [cnRdn] = derChildren(subject!);
  const [cnAttribute] = derChildren(cnRdn!);
  const [cnOid, cnValue] = derChildren(cnAttribute!);
  assert.equal(derOidText(cnOid!), "2.5.4.3");
  const [notBefore, notAfter] = derChildren(validity!);
  return {
    tbs: tbs!,
    version: version.contents[0]!,
    serial: serial!.contents,
    signatureOid: derOidText(derChildren(algorithm!)[0]!),
    outerSignatureOid: derOidText(derChildren(outerAlgorithm!)[0]!),
    issuer: issuer!.encoded,
    subject: subject!.encoded,
    commonName: new TextDecoder().decode(cnValue!.contents),
    notBefore: parseTime(notBefore!),
    notAfter: parseTime(notAfter!),
    spki: spki!.encoded,
    extensions,
    signature: signatureBits!.contents.subarray(1),
  };
}

function parseTime(node: DerNode): Date {
  const text = new TextDecoder().decode(node.contents);
  const match = node.tag === 0x17
    ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text)
    : /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text);
  assert.ok(match, `time ${text}`);
  let year = Number(match[1]);
  if (node.tag === 0x17) year += year < 50 ? 2000 : 1900;
  const [month, day, hour, minute, second] = match.slice(2).map(Number);
  return new Date(Date.UTC(year, month! - 1, day, hour, minute, second));
}

/** DER Ecdsa-Sig-Value back to WebCrypto's fixed 64-byte r || s. */
function derSignatureToRaw(der: Uint8Array): Uint8Array {
  const [r, s] = derChildren(readDer(der));
  const raw = new Uint8Array(64);
  for (const [index, integer] of [r!, s!].entries()) {
    const digits = integer.contents[0] === 0 ? integer.contents.subarray(1) : integer.contents;
    assert.ok(digits.length <= 32);
    raw.set(digits, index * 32 + 32 - digits.length);
  }
  return raw;
}

function subjectAltNames(value: Uint8Array): string[] {
  return derChildren(readDer(value)).map((name) => {
    if (name.tag === 0x82) return `DNS:${new TextDecoder().decode(name.contents)}`;
    assert.equal(name.tag, 0x87);
    return `IP:${hex(name.contents)}`;
  });
}

test("default certificate: PEM blocks, v3 structure, names, validity and extensions", async () => {
  const before = Date.now();
  const { certPem, keyPem } = await generateSelfSignedCertificate();
  assert.match(
    certPem,
    /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/,
  );
  assert.match(
    keyPem,
    /^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----\n$/,
  );
  const cert = parseCertificate(decodePem("CERTIFICATE", certPem));
  assert.equal(cert.version, 2);
  assert.ok(cert.serial.length >= 1 && cert.serial.length <= 20);
  assert.equal(cert.serial[0]! & 0x80, 0, "serial is positive");
  assert.equal(cert.signatureOid, ECDSA_SHA256);
  assert.equal(cert.outerSignatureOid, ECDSA_SHA256);
  assert.deepEqual(cert.issuer, cert.subject);
  assert.equal(cert.commonName, "localhost");
  // Seconds precision: allow the second the test started in.
  assert.ok(cert.notBefore.getTime() <= before);
  assert.ok(cert.notBefore.getTime() >= before - 2 * 3_600_000);
  const sevenDays = 7 * 86_400_000;
  assert.ok(cert.notAfter.getTime() >= before + sevenDays - 1000);
  assert.ok(cert.notAfter.getTime() <= Date.now() + sevenDays);

  assert.deepEqual([...cert.extensions.keys()].sort(), [
    "2.5.29.14",
    "2.5.29.15",
    "2.5.29.17",
    "2.5.29.19",
    "2.5.29.37",
  ]);
  const basic = cert.extensions.get("2.5.29.19")!;
  assert.equal(basic.critical, true);
  assert.equal(hex(basic.value), "3000", "cA FALSE (default), no path length");
  assert.equal(hex(cert.extensions.get("2.5.29.15")!.value), "03020780");
  const eku = derChildren(readDer(cert.extensions.get("2.5.29.37")!.value)).map(derOidText);
  assert.deepEqual(eku, ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
  assert.deepEqual(subjectAltNames(cert.extensions.get("2.5.29.17")!.value), [
    "DNS:localhost",
    "IP:7f000001",
    "IP:00000000000000000000000000000001",
  ]);
  const keyId = readDer(cert.extensions.get("2.5.29.14")!.value);
  const spkiDigest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", cert.spki as Uint8Array<ArrayBuffer>),
  );
  assert.deepEqual(keyId.contents, spkiDigest.subarray(0, 20));
});

test("the signature verifies under the certificate's key, and the PKCS#8 key is its pair", async () => {
  const { certPem, keyPem } = await generateSelfSignedCertificate();
  const cert = parseCertificate(decodePem("CERTIFICATE", certPem));
  const algorithm = { name: "ECDSA", namedCurve: "P-256" };
  const publicKey = await crypto.subtle.importKey(
    "spki",
    cert.spki as Uint8Array<ArrayBuffer>,
    algorithm,
    false,
    ["verify"],
  );
  const verify = (signature: Uint8Array, data: Uint8Array) =>
    crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" },
      publicKey,
      signature as Uint8Array<ArrayBuffer>,
      data as Uint8Array<ArrayBuffer>,
    );
  const raw = derSignatureToRaw(cert.signature);
  assert.equal(await verify(raw, cert.tbs.encoded), true);
  const tampered = cert.tbs.encoded.slice();
  tampered[tampered.length - 1]! ^= 1;
  assert.equal(await verify(raw, tampered), false);

  const privateKey = await crypto.subtle.importKey(
    "pkcs8",
    decodePem("PRIVATE KEY", keyPem) as Uint8Array<ArrayBuffer>,
    algorithm,
    false,
    ["sign"],
  );
  const message = new TextEncoder().encode("ferry");
  const signed = new Uint8Array(
    await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, message),
  );
  assert.equal(await verify(signed, message), true);
});

test("options: common name, alt names and validity; two certificates never share a key", async () => {
  const a = await generateSelfSignedCertificate({
    commonName: "ferry test",
    altNames: ["*.example.test", "Example.TEST", "10.1.2.3", "fe80::1"],
    validDays: 0.5,
  });
  const cert = parseCertificate(decodePem("CERTIFICATE", a.certPem));
  assert.equal(cert.commonName, "ferry test");
  assert.deepEqual(subjectAltNames(cert.extensions.get("2.5.29.17")!.value), [
    "DNS:*.example.test",
    "DNS:example.test",
    "IP:0a010203",
    "IP:fe800000000000000000000000000001",
  ]);
  assert.ok(cert.notAfter.getTime() - Date.now() <= 12 * 3_600_000);

  const none = await generateSelfSignedCertificate({ altNames: [] });
  assert.equal(
    parseCertificate(decodePem("CERTIFICATE", none.certPem)).extensions.has("2.5.29.17"),
    false,
  );
  const other = parseCertificate(decodePem("CERTIFICATE", none.certPem));
  assert.notDeepEqual(other.spki, cert.spki);
  assert.notDeepEqual(other.serial, cert.serial);
});

test("unusable options fail with InvalidArgumentError naming the value", async () => {
  const cases: [Parameters<typeof generateSelfSignedCertificate>[0], RegExp][] = [
    [{ commonName: "" }, /commonName ""/],
    [{ commonName: "x".repeat(65) }, /commonName/],
    [{ altNames: ["bad name"] }, /altName "bad name"/],
    [{ altNames: ["-x.test"] }, /altName "-x.test"/],
    [{ altNames: ["a.*.test"] }, /altName/],
    [{ altNames: ["300.1.1.1.1"] }, /altName/],
    [{ altNames: ["héllo.test"] }, /altName/],
    [{ validDays: 0 }, /validDays 0/],
    [{ validDays: NaN }, /validDays NaN/],
    [{ validDays: 1e9 }, /validDays/],
  ];
  for (const [options, message] of cases) {
    await assert.rejects(generateSelfSignedCertificate(options), (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.match(error.message, message);
      return true;
    });
  }
});

test("ecdsaSignatureToDer keeps r and s positive and minimal", () => {
  const raw = new Uint8Array(64);
  raw[0] = 0x80; // r has its high bit set: needs a 0x00 pad
  raw[63] = 0x05; // s is tiny: leading zeros dropped
  const der = ecdsaSignatureToDer(raw);
  const [r, s] = derChildren(readDer(der));
  assert.equal(r!.contents.length, 33);
  assert.equal(r!.contents[0], 0);
  assert.equal(hex(s!.contents), "05");
  assert.deepEqual(derSignatureToRaw(der), raw);
  assert.throws(() => ecdsaSignatureToDer(new Uint8Array(63)), /64 bytes/);
});
