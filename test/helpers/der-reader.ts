/**
 * A strict little DER reader for tests: walks the certificates `src/tls/` writes, independently of
 * the writer, and rejects what DER forbids (indefinite or non-minimal lengths, trailing bytes).
 *
 * @module
 */

export interface DerNode {
  /** The identifier octet. */
  readonly tag: number;
  /** The contents octets. */
  readonly contents: Uint8Array;
  /** The whole encoding (identifier, length, contents). */
  readonly encoded: Uint8Array;
}

/** Reads exactly one value filling all of `bytes`. */
export function readDer(bytes: Uint8Array): DerNode {
  const { node, end } = readAt(bytes, 0);
  if (end !== bytes.length) {
    throw new Error(`DER: ${bytes.length - end} trailing bytes after one value`);
  }
  return node;
}

/** The values inside a constructed node, in order. */
export function derChildren(node: DerNode): DerNode[] {
  if ((node.tag & 0x20) === 0) throw new Error(`DER: tag 0x${node.tag.toString(16)} is primitive`);
  const out: DerNode[] = [];
  let offset = 0;
  while (offset < node.contents.length) {
    const { node: child, end } = readAt(node.contents, offset);
    out.push(child);
    offset = end;
  }
  return out;
}

function readAt(bytes: Uint8Array, offset: number): { node: DerNode; end: number } {
  const tag = bytes[offset];
  const first = bytes[offset + 1];
  if (tag === undefined || first === undefined) throw new Error(`DER: truncated at ${offset}`);
  if ((tag & 0x1f) === 0x1f) throw new Error("DER: multi-octet tags are not expected here");
  let length = first;
  let header = 2;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0) throw new Error("DER: indefinite length");
    if (count > 4) throw new Error(`DER: length of ${count} octets`);
    length = 0;
    for (let i = 0; i < count; i++) {
      const octet = bytes[offset + 2 + i];
      if (octet === undefined) throw new Error("DER: truncated length");
      if (i === 0 && octet === 0) throw new Error("DER: non-minimal long-form length");
      length = length * 256 + octet;
    }
    if (length < 0x80) throw new Error(`DER: long form used for length ${length}`);
    header += count;
  }
  const end = offset + header + length;
  if (end > bytes.length) throw new Error(`DER: value at ${offset} runs past the end`);
  return {
    node: {
      tag,
      contents: bytes.subarray(offset + header, end),
      encoded: bytes.subarray(offset, end),
    },
    end,
  };
}

/** Dotted text of an OBJECT IDENTIFIER node. */
export function derOidText(node: DerNode): string {
  if (node.tag !== 0x06) {
    throw new Error(`DER: expected an OID, got tag 0x${node.tag.toString(16)}`);
  }
  const arcs: number[] = [];
  let value = 0;
  for (const octet of node.contents) {
    value = value * 128 + (octet & 0x7f);
    if ((octet & 0x80) === 0) {
      if (arcs.length > 0) arcs.push(value);
      else if (value < 80) arcs.push(Math.floor(value / 40), value % 40);
      else arcs.push(2, value - 80);
      value = 0;
    }
  }
  return arcs.join(".");
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
