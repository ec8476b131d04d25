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

/** Two-sided 95 % quantiles of Student's t for 1…30 degrees of freedom. */
const t95 = [
  12.706,
  4.303,
  3.182,
  2.776,
  2.571,
  2.447,
  2.365,
  2.306,
  2.262,
  2.228,
  2.201,
  2.179,
  2.16,
  2.145,
  2.131,
  2.12,
  2.11,
  2.101,
  2.093,
  2.086,
  2.08,
  2.074,
  2.069,
  2.064,
  2.06,
  2.056,
  2.052,
  2.048,
  2.045,
  2.042,
];

/**
 * The geometric mean of positive `ratios` and, from two ratios on, its 95 % confidence interval:
 * the mean of the logs ± t · standard error, back through `exp` (ratios multiply, so their logs
 * are what averages and spreads symmetrically).
 */
export function ratioInterval(
  ratios: readonly number[],
): { ratio: number; interval: readonly [number, number] | undefined } {
  if (ratios.length === 0 || ratios.some((r) => !(r > 0))) {
    throw new Error(`ratio interval of ${ratios.length} ratios, not all positive`);
  }
  const logs = ratios.map(Math.log);
  const mean = logs.reduce((sum, value) => sum + value, 0) / logs.length;
  if (logs.length < 2) return { ratio: Math.exp(mean), interval: undefined };
  const variance = logs.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (logs.length - 1);
  const t = t95[Math.min(logs.length - 1, t95.length) - 1]!;
  const margin = t * Math.sqrt(variance / logs.length);
  return { ratio: Math.exp(mean), interval: [Math.exp(mean - margin), Math.exp(mean + margin)] };
}
