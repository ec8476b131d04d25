/// <reference lib="dom" />
/**
 * The download panel: progress bar and line, throughput chart, chunk map, and the outcome (the
 * SHA-256 announced by the server beside the one computed here, and the save controls). It is the
 * download's {@linkcode ChunkObserver}; its `data-state` attribute says where the download stands
 * (`connecting`, `downloading`, `verifying`, `verified`, `failed`, `cancelled`), for styles and
 * for tests.
 *
 * @module
 */

import { describeError } from "../../src/mod.ts";
import type { DownloadProgress, FileInfo } from "../../src/files/mod.ts";
import { ChunkMap, ChunkState } from "./chunk-map.ts";
import type { ChunkObserver, CompletedDownload } from "./gateway-download.ts";
import { formatBytes, formatDuration, formatRate } from "./format-units.ts";
import { ThroughputChart } from "./throughput-chart.ts";

export type DownloadState =
  | "connecting"
  | "downloading"
  | "verifying"
  | "verified"
  | "failed"
  | "cancelled";

/** The elements the panel drives (see `index.html`). */
export interface DownloadPanelElements {
  readonly section: HTMLElement;
  readonly name: HTMLElement;
  readonly progress: HTMLProgressElement;
  readonly progressText: HTMLElement;
  readonly sessions: HTMLElement;
  readonly chart: HTMLCanvasElement;
  readonly chartText: HTMLElement;
  readonly map: HTMLCanvasElement;
  readonly legend: ReadonlyMap<ChunkState, HTMLElement>;
  readonly status: HTMLElement;
  readonly expected: HTMLElement;
  readonly computed: HTMLElement;
  readonly summary: HTMLElement;
  readonly saveControls: HTMLElement;
}

export class DownloadPanel implements ChunkObserver {
  readonly #el: DownloadPanelElements;
  readonly #map: ChunkMap;
  readonly #chart: ThroughputChart;
  #file: FileInfo | undefined;
  #bytesFetched = 0;
  #startedAt = 0;
  #retries = 0;
  #frame = 0;
  /** The download ended (done, failed, cancelled): no more "time left". */
  #stopped = false;

  constructor(elements: DownloadPanelElements) {
    this.#el = elements;
    this.#map = new ChunkMap(elements.map, elements.legend);
    this.#chart = new ThroughputChart(elements.chart, elements.chartText);
    new ResizeObserver(() => this.redraw()).observe(elements.section);
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => this.redraw());
  }

  /** A download of `file` starts: reset everything and show the panel. */
  begin(file: FileInfo): void {
    this.#file = file;
    this.#bytesFetched = 0;
    this.#retries = 0;
    this.#startedAt = performance.now();
    this.#stopped = false;
    const el = this.#el;
    el.section.hidden = false;
    el.name.textContent = file.name;
    el.progress.value = 0;
    el.progress.max = Math.max(file.size, 1);
    el.sessions.textContent = "";
    el.status.textContent = "";
    el.expected.textContent = file.sha256;
    el.computed.textContent = "–";
    el.summary.textContent = "";
    el.saveControls.hidden = true;
    this.#map.reset(file.chunkCount);
    this.#chart.start(() => this.#bytesFetched);
    this.#setState("connecting", `Opening ${file.name} through the gateway…`);
  }

  opened(file: FileInfo, sessions: readonly string[]): void {
    this.#file = file;
    this.#el.expected.textContent = file.sha256;
    this.#el.sessions.textContent = `${sessions.length} gateway session${
      sessions.length === 1 ? "" : "s"
    } · ${file.chunkCount} chunks of ${formatBytes(file.chunkSize)}`;
    if (file.chunkCount !== this.#map.count) this.#map.reset(file.chunkCount);
    this.#setState("downloading", `Downloading ${file.name}…`);
  }

  requested(index: number): void {
    this.#map.set(index, ChunkState.InFlight);
  }

  fetched(index: number, bytes: number): void {
    this.#bytesFetched += bytes;
    this.#map.set(index, ChunkState.Done);
    this.#scheduleProgress();
  }

  failed(index: number, _error: unknown): void {
    this.#retries++;
    this.#map.set(index, ChunkState.Failed);
  }

  abandoned(index: number): void {
    this.#map.set(index, ChunkState.Pending);
  }

  progress(_progress: DownloadProgress): void {
    this.#scheduleProgress();
  }

  verifying(): void {
    this.#chart.stop();
    this.#showProgress();
    this.#setState("verifying", "Every chunk verified; finishing the file…");
  }

  succeeded(download: CompletedDownload, where: string): void {
    const { digest, result, file } = download;
    const el = this.#el;
    this.#stop();
    // The final line shows the summary's rate (the whole file over the download's own time).
    el.progress.value = file.size;
    el.progressText.textContent = `${formatBytes(file.size)} of ${formatBytes(file.size)} ` +
      `(100.0%) · ${formatRate(file.size / Math.max(result.elapsedMs / 1000, 0.001))}`;
    el.computed.textContent = digest.hex;
    el.summary.textContent =
      `${formatBytes(file.size)} in ${formatDuration(result.elapsedMs)} (${
        formatRate(file.size / Math.max(result.elapsedMs / 1000, 0.001))
      }), ${file.chunkCount} chunk${file.chunkCount === 1 ? "" : "s"}, ${result.retries} ` +
      `retried, ${result.badChunks} damaged and fetched again; ${where}`;
    el.saveControls.hidden = false;
    this.#setState(
      "verified",
      `SHA-256 verified with ${digest.engine}, each chunk as it arrived (${
        formatDuration(digest.elapsedMs)
      } of hashing): the file is exactly the one the server announced.`,
    );
  }

  failedWith(error: unknown): void {
    this.#chart.stop();
    this.#stop();
    this.#showProgress();
    this.#setState("failed", `Download failed: ${describeError(error)}`);
  }

  cancelled(): void {
    this.#chart.stop();
    this.#stop();
    this.#showProgress();
    this.#setState("cancelled", "Download cancelled.");
  }

  redraw(): void {
    this.#map.invalidate();
    this.#chart.redraw();
  }

  #stop(): void {
    this.#stopped = true;
    if (this.#frame !== 0) cancelAnimationFrame(this.#frame);
    this.#frame = 0;
  }

  #setState(state: DownloadState, message: string): void {
    this.#el.section.dataset.state = state;
    this.#el.status.textContent = message;
  }

  /** Progress text is updated at most once per frame, however many chunks arrive. */
  #scheduleProgress(): void {
    if (this.#frame === 0 && !this.#stopped) {
      this.#frame = requestAnimationFrame(() => {
        this.#frame = 0;
        this.#showProgress();
      });
    }
  }

  #showProgress(): void {
    const file = this.#file;
    if (file === undefined) return;
    const done = this.#bytesFetched;
    const elapsed = (performance.now() - this.#startedAt) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const left = rate > 0 ? ((file.size - done) / rate) * 1000 : Infinity;
    const percent = file.size === 0 ? 100 : (done / file.size) * 100;
    this.#el.progress.value = done;
    this.#el.progressText.textContent = `${formatBytes(done)} of ${formatBytes(file.size)} (${
      percent.toFixed(1)
    }%) · ${formatRate(rate)}${
      done < file.size && !this.#stopped ? ` · ${formatDuration(left)} left` : ""
    }${this.#retries > 0 ? ` · ${this.#retries} failed attempts` : ""}`;
  }
}
