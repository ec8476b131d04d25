/**
 * Download progress for a person: on a TTY a bar redrawn in place (at most 10 times a second)
 * with percentage, bytes, rate and ETA; otherwise plain lines, one per 10 % (and the last).
 *
 * @module
 */

export interface ProgressReport {
  readonly bytesWritten: number;
  readonly size: number;
  /** Bytes fetched by this run and the time it took (the rate ignores a resumed prefix). */
  readonly bytesFetched: number;
  readonly elapsedMs: number;
}

export interface ProgressView {
  update(report: ProgressReport): void;
  /** Ends the bar's line (TTY). */
  finish(): void;
}

export function progressView(
  stream: { isTTY?: boolean; columns?: number; write(text: string): unknown },
  mode: "auto" | "bar" | "lines" | "none",
): ProgressView {
  const kind = mode === "auto" ? (stream.isTTY ? "bar" : "lines") : mode;
  let lastDraw = 0;
  let lastDecile = -1;
  let drawn = false;
  return {
    update(report) {
      if (kind === "none") return;
      const fraction = report.size === 0 ? 1 : report.bytesWritten / report.size;
      const rate = report.elapsedMs > 0 ? report.bytesFetched / (report.elapsedMs / 1000) : 0;
      const remaining = report.size - report.bytesWritten;
      const eta = rate > 0 ? formatDuration(remaining / rate) : "--:--";
      const numbers = `${(fraction * 100).toFixed(1).padStart(5)}%  ${
        formatBytes(report.bytesWritten)
      } / ${formatBytes(report.size)}  ${formatBytes(rate)}/s  ETA ${eta}`;
      if (kind === "bar") {
        const now = Date.now();
        if (now - lastDraw < 100 && fraction < 1) return;
        lastDraw = now;
        stream.write(`\r${barLine(fraction, numbers, eta, rate, stream.columns ?? 80)}\x1b[K`);
        drawn = true;
        return;
      }
      const decile = Math.floor(fraction * 10);
      if (decile === lastDecile) return;
      lastDecile = decile;
      stream.write(`progress ${numbers}\n`);
    },
    finish() {
      if (drawn) stream.write("\n");
      drawn = false;
    },
  };
}

/**
 * One line that fits `columns − 1` characters (a line as wide as the terminal wraps on some): the
 * bar shrinks first (down to 10), then the byte counts go, then the bar.
 */
function barLine(
  fraction: number,
  numbers: string,
  eta: string,
  rate: number,
  columns: number,
): string {
  const room = Math.max(20, columns) - 1;
  const percent = `${(fraction * 100).toFixed(1).padStart(5)}%`;
  const short = `${percent}  ${formatBytes(rate)}/s  ETA ${eta}`;
  for (const text of [numbers, short]) {
    const width = Math.min(40, room - text.length - 3);
    if (width >= 10) {
      const filled = Math.round(fraction * width);
      return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${text}`;
    }
  }
  return short.slice(0, room);
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--:--";
  const total = Math.ceil(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, "0");
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
