/**
 * The plain-text table `npm run bench` prints: one line per comparison row. Besides the two
 * medians, their ratio and the target it prints the load average when the row's case started and
 * the CPU cost (client + server) of each side's work: seconds per GiB moved or microseconds per
 * request, so a reader can tell a CPU-bound side from an idle one and check the ratio.
 *
 * @module
 */

import type { RowResult } from "./run-case.ts";

const headers = [
  "name",
  "unit",
  "ferry",
  "baseline",
  "ratio",
  "target",
  "ok?",
  "load",
  "cpu ferry / baseline",
] as const;

/** Renders rows as an aligned table (first line headers, second a rule). */
export function formatTable(rows: readonly RowResult[]): string {
  const lines = rows.map((result) => [
    result.row.name,
    result.row.unit,
    formatFigure(result.subjectValue),
    `${formatFigure(result.baselineValue)} (${baselineLabel(result)})`,
    formatRatio(result),
    result.row.target === undefined
      ? "—"
      : `${result.row.target.op === ">=" ? "≥" : "≤"} ${result.row.target.ratio}×`,
    result.ok === undefined ? "—" : result.ok ? "yes" : "NO",
    result.loadAverage.toFixed(1),
    result.cpu === undefined
      ? "—"
      : `${formatFigure(result.cpu.subject)} / ${
        formatFigure(result.cpu.baseline)
      } ${result.cpu.unit}`,
  ]);
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...lines.map((line) => line[column]!.length))
  );
  const render = (cells: readonly string[]) =>
    cells.map((cell, column) =>
      column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)
    )
      .join("  ").trimEnd();
  return [
    render(headers),
    widths.map((width) => "-".repeat(width)).join("  "),
    ...lines.map(render),
  ]
    .join("\n");
}

/**
 * `1.23×`; a paired row, whose ratio is meant to resolve small differences, with three decimals and
 * its 95 % interval: `1.004× (0.991–1.017)`.
 */
export function formatRatio(result: RowResult): string {
  if (result.row.paired !== true) return `${result.ratio.toFixed(2)}×`;
  const interval = result.interval;
  return interval === undefined
    ? `${result.ratio.toFixed(3)}×`
    : `${result.ratio.toFixed(3)}× (${interval[0].toFixed(3)}–${interval[1].toFixed(3)})`;
}

/** A figure with about four significant digits and thin grouping of thousands. */
export function formatFigure(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** How the baseline column names the baseline: its label, `budget`, or the contestant's name. */
export function baselineLabel(result: RowResult): string {
  return result.row.baselineLabel ??
    (result.row.budget !== undefined ? "budget" : result.row.baseline);
}
