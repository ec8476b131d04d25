/**
 * The `Deno` global as the bench's Deno scripts use it, typed locally (on top of the adapters'
 * `DenoApi`) so the project's Node type-check, which has no Deno types, passes.
 *
 * @module
 */

import { type DenoApi, denoApi } from "../../adapters/deno/deno-api.ts";

/** `DenoApi` plus the process calls a bench script makes. */
export interface DenoScriptRuntime extends DenoApi {
  readonly args: readonly string[];
  readonly stdin: { readonly readable: ReadableStream<Uint8Array> };
  readonly stdout: { writeSync(bytes: Uint8Array): number };
  exit(code: number): never;
}

/** The `Deno` global (throws a TransportError outside Deno). */
export function denoScriptRuntime(): DenoScriptRuntime {
  return denoApi() as DenoScriptRuntime;
}
