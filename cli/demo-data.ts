/**
 * The built-in demo data of `ferry serve`: generated deterministically on first run into
 * `<demoDir>/files/`, so every machine serves the same bytes (and the same SHA-256):
 *
 * - `big.bin` — `bigSize` bytes (default 256 MiB) from a seeded xorshift128 generator, written in
 *   1 MiB blocks (fast: no hashing or crypto while generating);
 * - `medium.bin` — 3 MiB + 12 345 bytes (a last chunk shorter than the others);
 * - `hello.txt` — a few lines of text.
 *
 * A marker file records the parameters, so a different `--demo-size` regenerates and an
 * interrupted generation (no marker) starts over.
 *
 * @module
 */

import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";

/** Default size of `big.bin`: 256 MiB. */
export const DEFAULT_DEMO_SIZE = 256 * 1024 * 1024;
const BLOCK = 1 << 20;
const VERSION = 1;

/** Makes sure the demo files exist; returns their folder. `log` hears about generation. */
export function ensureDemoData(
  demoDir: string,
  bigSize: number,
  log: (line: string) => void,
): string {
  const dir = join(demoDir, "files");
  const marker = join(dir, ".generated.json");
  const wanted = JSON.stringify({ version: VERSION, bigSize });
  if (existsSync(marker) && readFileSync(marker, "utf8") === wanted) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`generating demo data in ${dir} (big.bin: ${bigSize} bytes) ...`);
  const started = Date.now();
  writeRandomFile(join(dir, "big.bin"), bigSize, 0x5eed_0001);
  writeRandomFile(join(dir, "medium.bin"), 3 * BLOCK + 12_345, 0x5eed_0002);
  writeFileSync(
    join(dir, "hello.txt"),
    "Hello from Ferry!\nThese bytes travelled over Spark's network-common wire format.\n",
  );
  writeFileSync(marker, wanted);
  log(`generated demo data in ${Date.now() - started} ms`);
  return dir;
}

/** Writes `size` pseudo-random bytes from `seed` to `path` (via a temporary file). */
export function writeRandomFile(path: string, size: number, seed: number): void {
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, "w");
  try {
    const block = new Uint8Array(BLOCK);
    const words = new Uint32Array(block.buffer);
    let x = seed >>> 0 || 1, y = 362_436_069, z = 521_288_629, w = 88_675_123;
    for (let written = 0; written < size;) {
      for (let i = 0; i < words.length; i++) {
        const t = x ^ (x << 11);
        x = y;
        y = z;
        z = w;
        w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
        words[i] = w;
      }
      const length = Math.min(BLOCK, size - written);
      let offset = 0;
      while (offset < length) offset += writeSync(fd, block, offset, length - offset);
      written += length;
    }
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}
