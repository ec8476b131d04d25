/**
 * Shared helpers of the OneForOneStreamManager unit tests: owners are plain objects standing in for
 * connections (the manager only compares them and reads `isActive`).
 */

import assert from "node:assert/strict";
import type { TransportClient } from "../../src/client/transport-client.ts";

export function fakeClient(name: string): TransportClient {
  return { name } as unknown as TransportClient;
}

export function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

/** Lets every pending microtask (lookahead pulls, releases) run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
    return error;
  }
  assert.fail("expected the promise to reject");
}

export async function collect(
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<number[]> {
  const out: number[] = [];
  for await (const chunk of body) out.push(...chunk);
  return out;
}
