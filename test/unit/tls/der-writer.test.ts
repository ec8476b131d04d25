import { test } from "node:test";
import assert from "node:assert/strict";
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
  derValue,
} from "../../../src/tls/der-writer.ts";
import { InvalidArgumentError } from "../../../src/errors.ts";
import { derChildren, derOidText, hex, readDer } from "../../helpers/der-reader.ts";

test("lengths use the short form below 128 and the minimal long form above", () => {
  assert.equal(hex(derOctetString(new Uint8Array(0))), "0400");
  assert.equal(hex(derOctetString(new Uint8Array(127)).subarray(0, 2)), "047f");
  assert.equal(hex(derOctetString(new Uint8Array(128)).subarray(0, 3)), "048180");
  assert.equal(hex(derOctetString(new Uint8Array(255)).subarray(0, 3)), "0481ff");
  assert.equal(hex(derOctetString(new Uint8Array(256)).subarray(0, 4)), "04820100");
  assert.equal(hex(derOctetString(new Uint8Array(65_536)).subarray(0, 5)), "0483010000");
  for (const size of [0, 1, 127, 128, 255, 256, 65_535, 65_536]) {
    const node = readDer(derOctetString(new Uint8Array(size).fill(7)));
    assert.equal(node.contents.length, size);
  }
});

test("integers are minimal and positive", () => {
  assert.equal(hex(derSmallInteger(0)), "020100");
  assert.equal(hex(derSmallInteger(2)), "020102");
  assert.equal(hex(derSmallInteger(127)), "02017f");
  assert.equal(hex(derSmallInteger(128)), "02020080");
  assert.equal(hex(derSmallInteger(256)), "02020100");
  assert.equal(hex(derUnsignedInteger(Uint8Array.of(0, 0, 0x12))), "020112");
  assert.equal(hex(derUnsignedInteger(Uint8Array.of(0, 0xff, 1))), "020300ff01");
  assert.equal(hex(derUnsignedInteger(Uint8Array.of(0, 0))), "020100");
  assert.equal(hex(derUnsignedInteger(new Uint8Array(0))), "020100");
  assert.throws(() => derSmallInteger(-1), InvalidArgumentError);
  assert.throws(() => derSmallInteger(1.5), InvalidArgumentError);
});

test("object identifiers match well-known encodings", () => {
  assert.equal(hex(derObjectIdentifier("1.2.840.113549")), "06062a864886f70d");
  assert.equal(hex(derObjectIdentifier("2.5.29.17")), "0603551d11");
  assert.equal(hex(derObjectIdentifier("1.2.840.10045.4.3.2")), "06082a8648ce3d040302");
  assert.equal(hex(derObjectIdentifier("2.999.3")), "0603883703");
  for (const oid of ["1.3.6.1.5.5.7.3.1", "2.5.4.3", "0.9.2342.19200300.100.1.25", "2.999.3"]) {
    assert.equal(derOidText(readDer(derObjectIdentifier(oid))), oid);
  }
  for (const bad of ["", "1", "3.1", "1.40", "1..2", "1.2.x", "1.2.-3"]) {
    assert.throws(() => derObjectIdentifier(bad), InvalidArgumentError, bad);
  }
});

test("booleans, bit strings and named bits", () => {
  assert.equal(hex(derBoolean(true)), "0101ff");
  assert.equal(hex(derBoolean(false)), "010100");
  assert.equal(hex(derBitString(Uint8Array.of(0xab, 0xcd))), "030300abcd");
  // keyUsage digitalSignature alone is the classic 03 02 07 80.
  assert.equal(hex(derNamedBits([0])), "03020780");
  // digitalSignature + keyEncipherment (bit 2): 0xa0, 5 unused bits.
  assert.equal(hex(derNamedBits([0, 2])), "030205a0");
  // keyCertSign (5) + cRLSign (6): 0x06, 1 unused bit.
  assert.equal(hex(derNamedBits([5, 6])), "03020106");
  // decipherOnly (8) needs a second octet.
  assert.equal(hex(derNamedBits([8])), "0303070080");
  assert.equal(hex(derNamedBits([])), "030100");
  assert.throws(() => derNamedBits([-1]), InvalidArgumentError);
});

test("strings, sequences, sorted sets and context tags", () => {
  assert.equal(hex(derUtf8String("hé")), "0c0368c3a9");
  assert.equal(hex(derSequence()), "3000");
  assert.equal(hex(derSequence(derBoolean(true), derSmallInteger(1))), "30060101ff020101");
  // SET OF sorts by encoding, whatever the argument order.
  assert.equal(hex(derSetOf(derSmallInteger(3), derSmallInteger(1))), "3106020101020103");
  assert.equal(hex(derExplicit(0, derSmallInteger(2))), "a003020102");
  assert.equal(hex(derImplicitPrimitive(7, Uint8Array.of(127, 0, 0, 1))), "87047f000001");
  const nested = derSequence(derExplicit(3, derSequence(derOctetString(Uint8Array.of(1)))));
  const [wrapper] = derChildren(readDer(nested));
  assert.equal(wrapper!.tag, 0xa3);
  assert.equal(derChildren(derChildren(wrapper!)[0]!)[0]!.tag, 0x04);
  assert.throws(() => derExplicit(31, derBoolean(true)), InvalidArgumentError);
  assert.throws(() => derValue(0x1f, new Uint8Array(0)), InvalidArgumentError);
});

test("times switch from UTCTime to GeneralizedTime in 2050", () => {
  const text = (bytes: Uint8Array) => new TextDecoder().decode(readDer(bytes).contents);
  const utc = derTime(new Date(Date.UTC(2049, 11, 31, 23, 59, 59, 999)));
  assert.equal(utc[0], 0x17);
  assert.equal(text(utc), "491231235959Z");
  const generalized = derTime(new Date(Date.UTC(2050, 0, 2, 3, 4, 5)));
  assert.equal(generalized[0], 0x18);
  assert.equal(text(generalized), "20500102030405Z");
  const before = derTime(new Date(Date.UTC(1949, 5, 6, 7, 8, 9)));
  assert.equal(before[0], 0x18);
  assert.equal(text(before), "19490606070809Z");
  assert.equal(text(derTime(new Date(Date.UTC(1950, 0, 1)))), "500101000000Z");
  assert.throws(() => derTime(new Date(NaN)), InvalidArgumentError);
});
