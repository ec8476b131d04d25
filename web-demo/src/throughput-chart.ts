/// <reference lib="dom" />
/**
 * The live throughput chart: every `SAMPLE_MS` it reads a byte counter, computes the rate over the
 * last second, and draws the whole download so far as an area chart on a canvas (time on x, rate
 * on y, with a few labelled grid lines at round values). No chart library: about a hundred lines
 * of canvas. A text readout next to it gives the current, peak and average rate, and the canvas's
 * accessible name says the same.
 *
 * Colours come from the canvas's CSS custom properties `--chart-line`, `--chart-fill`,
 * `--chart-grid` and `--chart-text`.
 *
 * @module
 */

import { formatDuration, formatRate } from "./format-units.ts";

const SAMPLE_MS = 250;
const WINDOW_MS = 1_000;
/** Horizontal grid lines above zero, at multiples of a round rate. */
const GRID_LINES = 4;
const HEIGHT = 180;
const PADDING = { left: 76, right: 12, top: 12, bottom: 24 };

interface Sample {
  readonly at: number;
  readonly bytes: number;
  readonly rate: number;
}

export class ThroughputChart {
  readonly #canvas: HTMLCanvasElement;
  readonly #readout: HTMLElement;
  #samples: Sample[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #bytes: () => number = () => 0;
  #startedAt = 0;
  #peak = 0;

  constructor(canvas: HTMLCanvasElement, readout: HTMLElement) {
    this.#canvas = canvas;
    this.#readout = readout;
  }

  /** Starts sampling `bytes()` (a counter of bytes received so far) from zero. */
  start(bytes: () => number): void {
    this.stop();
    this.#bytes = bytes;
    this.#startedAt = performance.now();
    this.#samples = [{ at: 0, bytes: bytes(), rate: 0 }];
    this.#peak = 0;
    this.#timer = setInterval(() => this.#sample(), SAMPLE_MS);
    this.#draw();
  }

  /** Takes a last sample and stops. */
  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#sample();
  }

  /** Redraws (after a resize or a colour scheme change). */
  redraw(): void {
    this.#draw();
  }

  #sample(): void {
    const at = performance.now() - this.#startedAt;
    const bytes = this.#bytes();
    // The rate over the last second (or since the start): smooth enough to read, still live.
    let since = this.#samples.length - 1;
    while (since > 0 && at - this.#samples[since - 1]!.at <= WINDOW_MS) since--;
    const from = this.#samples[since]!;
    const rate = at > from.at ? (bytes - from.bytes) / ((at - from.at) / 1000) : 0;
    this.#samples.push({ at, bytes, rate });
    this.#peak = Math.max(this.#peak, rate);
    this.#draw();
  }

  #draw(): void {
    const context = this.#canvas.getContext("2d");
    if (context === null) return;
    const width = Math.max(this.#canvas.clientWidth, 200);
    const ratio = devicePixelRatio;
    if (this.#canvas.width !== Math.round(width * ratio)) {
      this.#canvas.width = Math.round(width * ratio);
      this.#canvas.height = Math.round(HEIGHT * ratio);
      this.#canvas.style.height = `${HEIGHT}px`;
    }
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, HEIGHT);
    const style = getComputedStyle(this.#canvas);
    const colour = (name: string, fallback: string) =>
      style.getPropertyValue(name).trim() || fallback;

    const last = this.#samples[this.#samples.length - 1] ?? { at: 0, bytes: 0, rate: 0 };
    const spanMs = Math.max(last.at, 1_000);
    const step = gridStep(this.#peak);
    const top = step * GRID_LINES;
    const plotWidth = width - PADDING.left - PADDING.right;
    const plotHeight = HEIGHT - PADDING.top - PADDING.bottom;
    const x = (at: number) => PADDING.left + (at / spanMs) * plotWidth;
    const y = (rate: number) => PADDING.top + plotHeight - (rate / top) * plotHeight;

    context.font = "11px system-ui, sans-serif";
    context.fillStyle = colour("--chart-text", "#555");
    context.strokeStyle = colour("--chart-grid", "#e3e6ea");
    context.lineWidth = 1;
    context.textBaseline = "middle";
    context.textAlign = "right";
    for (let line = 0; line <= GRID_LINES; line++) {
      const rate = step * line;
      const gy = Math.round(y(rate)) + 0.5;
      context.beginPath();
      context.moveTo(PADDING.left, gy);
      context.lineTo(width - PADDING.right, gy);
      context.stroke();
      context.fillText(formatRate(rate), PADDING.left - 6, gy);
    }
    context.textAlign = "left";
    context.textBaseline = "alphabetic";
    context.fillText("0 s", PADDING.left, HEIGHT - 6);
    context.textAlign = "right";
    context.fillText(formatDuration(spanMs), width - PADDING.right, HEIGHT - 6);

    if (this.#samples.length > 1) {
      context.beginPath();
      context.moveTo(x(0), y(0));
      for (const sample of this.#samples) context.lineTo(x(sample.at), y(sample.rate));
      context.lineTo(x(last.at), y(0));
      context.closePath();
      context.fillStyle = colour("--chart-fill", "rgba(47, 111, 235, 0.18)");
      context.fill();
      context.beginPath();
      this.#samples.forEach((sample, i) =>
        i === 0
          ? context.moveTo(x(sample.at), y(sample.rate))
          : context.lineTo(x(sample.at), y(sample.rate))
      );
      context.strokeStyle = colour("--chart-line", "#2f6feb");
      context.lineWidth = 2;
      context.stroke();
    }

    const average = last.at > 0 ? (last.bytes - this.#samples[0]!.bytes) / (last.at / 1000) : 0;
    const text = `now ${formatRate(last.rate)} · peak ${formatRate(this.#peak)} · average ${
      formatRate(average)
    }`;
    this.#readout.textContent = text;
    this.#canvas.setAttribute("aria-label", `Throughput over ${formatDuration(last.at)}: ${text}`);
  }
}

/**
 * A round grid step for rates up to `peak` (bytes per second): 1, 2 or 5 × 10ⁿ in the unit the
 * peak is shown in (B/s, KiB/s or MiB/s), so that `GRID_LINES` steps reach at least `peak`.
 */
function gridStep(peak: number): number {
  const unit = peak >= 1 << 20 ? 1 << 20 : peak >= 1024 ? 1024 : 1;
  const scaled = Math.max(peak / unit / GRID_LINES, unit === 1 ? 1 : 0.1);
  const magnitude = 10 ** Math.floor(Math.log10(scaled));
  for (const factor of [1, 2, 5]) {
    if (factor * magnitude >= scaled) return factor * magnitude * unit;
  }
  return 10 * magnitude * unit;
}
