/**
 * Small order statistics for bench figures.
 *
 * @module
 */

/** The median of `values` (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The `p`-th percentile (0 < p ≤ 100) of `values` by nearest rank. Sorts `values` in place. */
export function percentileInPlace(values: Float64Array, p: number): number {
  if (values.length === 0) throw new Error("percentile of no values");
  values.sort();
  const rank = Math.ceil((p / 100) * values.length);
  return values[Math.min(values.length, Math.max(1, rank)) - 1]!;
}
