import { test } from "node:test";
import assert from "node:assert/strict";
import { parseIpAddress } from "../../../src/tls/ip-address.ts";
import { hex } from "../../helpers/der-reader.ts";

const bytes = (text: string) => {
  const parsed = parseIpAddress(text);
  return parsed === undefined ? undefined : hex(parsed);
};

test("IPv4 dotted quads", () => {
  assert.equal(bytes("127.0.0.1"), "7f000001");
  assert.equal(bytes("0.0.0.0"), "00000000");
  assert.equal(bytes("255.255.255.255"), "ffffffff");
  for (const bad of ["256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.", "a.b.c.d", ""]) {
    assert.equal(bytes(bad), undefined, bad);
  }
});

test("IPv6 full, compressed and with an embedded IPv4", () => {
  assert.equal(bytes("::1"), "00000000000000000000000000000001");
  assert.equal(bytes("::"), "00000000000000000000000000000000");
  assert.equal(bytes("2001:db8::8a2e:370:7334"), "20010db80000000000008a2e03707334");
  assert.equal(bytes("fe80::"), "fe800000000000000000000000000000");
  assert.equal(bytes("1:2:3:4:5:6:7:8"), "00010002000300040005000600070008");
  assert.equal(bytes("1:2:3:4:5:6:7::"), "00010002000300040005000600070000");
  assert.equal(bytes("::ffff:192.0.2.1"), "00000000000000000000ffffc0000201");
  assert.equal(bytes("1:2:3:4:5:6:1.2.3.4"), "00010002000300040005000601020304");
  assert.equal(bytes("ABCD::EF"), "abcd00000000000000000000000000ef");
});

test("malformed IPv6 is rejected", () => {
  for (
    const bad of [
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      ":1::",
      "1:2:3:4:5:6:7:8::",
      "12345::",
      "g::1",
      "::1.2.3",
      "1.2.3.4::",
      "fe80::1%eth0",
      "1:2:3:4:5:6:7:1.2.3.4",
    ]
  ) {
    assert.equal(bytes(bad), undefined, bad);
  }
});
