/**
 * CRC-32 (IEEE 802.3, the polynomial of zlib, gzip, PNG and `java.util.zip.CRC32`), computed
 * incrementally over chunks with slicing-by-8 tables: eight bytes per step, no allocation.
 *
 * `crc32(data)` of a whole buffer equals `crc32(tail, crc32(head))` of any split of it.
 *
 * @module
 */

const POLYNOMIAL = 0xedb88320;

/** Eight 256-entry tables in one array: table k at offset k × 256. Built on first use. */
let tables: Int32Array | undefined;

function buildTables(): Int32Array {
  const table = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? POLYNOMIAL ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = table[n]!;
    for (let k = 1; k < 8; k++) {
      c = table[c & 0xff]! ^ (c >>> 8);
      table[k * 256 + n] = c;
    }
  }
  return table;
}

/**
 * The CRC-32 of `data`, continuing from `previous` (the CRC of the bytes before it; 0 to start).
 * Returns an unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * import { crc32 } from "ferry-transport";
 *
 * const bytes = new TextEncoder().encode("123456789");
 * console.log(crc32(bytes).toString(16)); // "cbf43926"
 * // In pieces: continue from the CRC of the bytes before.
 * console.log(crc32(bytes.subarray(4), crc32(bytes.subarray(0, 4))) === crc32(bytes)); // true
 * ```
 */
export function crc32(data: Uint8Array, previous = 0): number {
  const t = tables ??= buildTables();
  let crc = ~previous;
  const length = data.length;
  let i = 0;
  for (const end = length - 7; i < end; i += 8) {
    const low = crc ^
      (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    crc = t[1792 + (low & 0xff)]! ^ t[1536 + ((low >>> 8) & 0xff)]! ^
      t[1280 + ((low >>> 16) & 0xff)]! ^ t[1024 + (low >>> 24)]! ^
      t[768 + data[i + 4]!]! ^ t[512 + data[i + 5]!]! ^ t[256 + data[i + 6]!]! ^ t[data[i + 7]!]!;
  }
  for (; i < length; i++) crc = t[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
