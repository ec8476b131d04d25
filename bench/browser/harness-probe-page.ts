/**
 * A page module that only exercises `bench/harness/chromium-direct.ts` itself (its test): JSON in
 * and out, a failure with its stack, and state kept between calls.
 *
 * @module
 */

let calls = 0;

/** Returns its arguments, the number of calls so far and the page's user agent. */
export function echo(...args: unknown[]): { args: unknown[]; calls: number; userAgent: string } {
  calls++;
  return { args, calls, userAgent: navigator.userAgent };
}

/** Rejects with `message`. */
export async function fail(message: string): Promise<never> {
  calls++;
  await Promise.resolve();
  throw new RangeError(message);
}
