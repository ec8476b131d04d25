/**
 * Textual IP addresses to their network-order bytes (4 for IPv4, 16 for IPv6), as X.509's
 * `iPAddress` GeneralName carries them. Strict: dotted-quad IPv4 without leading zeros, and IPv6
 * in RFC 4291 text form (`::` compression, optional trailing dotted IPv4, no zone id).
 *
 * @module
 */

/** The address's bytes, or `undefined` when `text` is not an IP address literal. */
export function parseIpAddress(text: string): Uint8Array | undefined {
  return text.includes(":") ? parseIpv6(text) : parseIpv4(text);
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    out[i] = value;
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] === "" ? [] : halves[0]!.split(":");
  const tail = halves.length === 1 || halves[1] === "" ? [] : halves[1]!.split(":");
  // A dotted IPv4 may end the text (not precede a "::"); it takes the place of two groups.
  let ipv4: Uint8Array | undefined;
  const last = tail.length > 0 ? tail[tail.length - 1] : halves.length === 1 ? head.at(-1) : "";
  if (last !== undefined && last.includes(".")) {
    ipv4 = parseIpv4(last);
    if (ipv4 === undefined) return undefined;
    if (tail.length > 0) tail.pop();
    else head.pop();
  }
  const groupCount = head.length + tail.length + (ipv4 ? 2 : 0);
  if (halves.length === 1 ? groupCount !== 8 : groupCount > 7) return undefined;
  const out = new Uint8Array(16);
  const writeGroups = (list: readonly string[], startGroup: number): boolean => {
    for (let i = 0; i < list.length; i++) {
      const group = list[i]!;
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return false;
      const value = parseInt(group, 16);
      out[(startGroup + i) * 2] = value >> 8;
      out[(startGroup + i) * 2 + 1] = value & 0xff;
    }
    return true;
  };
  const tailStart = 8 - tail.length - (ipv4 ? 2 : 0);
  if (!writeGroups(head, 0) || !writeGroups(tail, tailStart)) return undefined;
  if (ipv4) out.set(ipv4, 12);
  return out;
}
