/**
 * `withWriteCount`: a diagnostic every Ferry contestant records. No runtime code, so the Deno
 * bench client uses it too.
 *
 * @module
 */

import type { TransportClient } from "../../src/client/transport-client.ts";

/**
 * Runs `work` and adds `clientSocketWrites` (socket writes the client made meanwhile) to its
 * figures: how well the engine coalesces frames, a diagnostic recorded in the JSON report.
 */
export async function withWriteCount<T extends Record<string, number>>(
  client: TransportClient,
  work: () => Promise<T>,
): Promise<T & { clientSocketWrites: number }> {
  const before = client.stats().socketWrites;
  const figures = await work();
  return { ...figures, clientSocketWrites: client.stats().socketWrites - before };
}
