/**
 * The bench's paired rows (`ComparisonRow.paired`, used by `observability-cost`): the ratio is the
 * geometric mean of the rounds' own ratios, with a 95 % Student-t interval over their logs, and the
 * table prints it with three decimals and the interval. Pure arithmetic, no timing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ratioInterval } from "../../bench/harness/statistics.ts";
import { formatRatio } from "../../bench/harness/report-table.ts";
import type { RowResult } from "../../bench/harness/run-case.ts";

test("a paired ratio is the geometric mean with a t interval over the log ratios", () => {
  const one = ratioInterval([1.1]);
  assert.ok(Math.abs(one.ratio - 1.1) < 1e-12);
  assert.equal(one.interval, undefined);

  // Logs ±0.01 around 0: mean 0, sd 0.01 (n − 1), se 0.01/√4, t(3) = 3.182.
  const ratios = [Math.exp(0.01), Math.exp(-0.01), Math.exp(0.01), Math.exp(-0.01)];
  const { ratio, interval } = ratioInterval(ratios);
  const sd = Math.sqrt((4 * 0.0001) / 3);
  const margin = 3.182 * sd / 2;
  assert.ok(Math.abs(ratio - 1) < 1e-12);
  assert.ok(Math.abs(interval![0] - Math.exp(-margin)) < 1e-12);
  assert.ok(Math.abs(interval![1] - Math.exp(margin)) < 1e-12);

  // Identical rounds: no spread, the interval is the point.
  const flat = ratioInterval([1.02, 1.02, 1.02]);
  assert.ok(Math.abs(flat.interval![1] - 1.02) < 1e-12);
  assert.throws(() => ratioInterval([]), /ratio interval of 0 ratios/);
  assert.throws(() => ratioInterval([1, 0]), /not all positive/);
});

test("the table prints a paired row's ratio with its interval", () => {
  const row = {
    name: "r",
    metric: "m",
    unit: "u",
    higherIsBetter: false,
    subject: "a",
    baseline: "a",
  };
  const result = (paired: boolean, interval?: readonly [number, number]) =>
    ({
      caseName: "c",
      row: { ...row, paired },
      subjectValue: 1,
      baselineValue: 1,
      ratio: 1.0042,
      ...(interval === undefined ? {} : { interval }),
      ok: undefined,
      loadAverage: 0,
      cpu: undefined,
    }) satisfies RowResult;
  assert.equal(formatRatio(result(false)), "1.00×");
  assert.equal(formatRatio(result(true)), "1.004×");
  assert.equal(formatRatio(result(true, [0.9912, 1.0171])), "1.004× (0.991–1.017)");
});
