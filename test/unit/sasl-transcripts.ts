/**
 * Loads the Spark 3.5.4 SASL transcripts (see test/fixtures/README.md) for the sasl-*.test.ts
 * files, with small helpers to turn their hex into bytes.
 */
import { readFileSync } from "node:fs";

export interface TranscriptFrame {
  readonly layer: "spark" | "sasl-wrapped";
  readonly hex: string;
  readonly unwrapped?: { readonly plaintextHex: string; readonly macHex: string };
}

export interface Transcript {
  readonly name: string;
  readonly credentials: { readonly appId: string; readonly secret: string };
  readonly frames: { readonly c2s: TranscriptFrame[]; readonly s2c: TranscriptFrame[] };
  readonly sasl: {
    readonly steps: { dir: string; requestId: string; appId?: string; tokenHex: string }[];
    readonly challenge: { text: string; fields: Record<string, string> };
    readonly response: { text: string; fields: Record<string, string> };
    readonly negotiated: { qop: string; cipher: string | null };
  };
  readonly expected: Record<string, string>;
  // deno-lint-ignore no-explicit-any
  readonly javaTrace: { client: Record<string, any>; server: Record<string, any> };
  readonly encryption?: {
    readonly keys: {
      Kcc: string;
      Kcs: string;
      Kic: string;
      Kis: string;
      c2s: { key: string; iv: string };
      s2c: { key: string; iv: string };
    };
  };
}

const data = JSON.parse(
  readFileSync(new URL("../fixtures/spark-sasl-transcripts.json", import.meta.url), "utf8"),
) as { variants: Transcript[] };

export const transcripts: readonly Transcript[] = data.variants;

export function transcript(name: string): Transcript {
  const found = transcripts.find((t) => t.name === name);
  if (found === undefined) throw new Error(`no transcript ${name}`);
  return found;
}

export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function hexOf(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
