/// <reference lib="dom" />
/**
 * The download timeline: one row per gateway session, one bar per chunk, coloured by phase —
 * waiting for the reply (request → first byte), receiving it (first → last byte), waiting for the
 * digest check, and verifying it. Built from Ferry's observability events (`timeline-events.ts`)
 * and the page's own digest timings ({@linkcode DownloadTimeline.verified}).
 *
 * Drawn in SVG whose user units are milliseconds on x and lanes on y (`viewBox`, stretched to the
 * panel), so a longer download only changes the `viewBox`: a frame rewrites the bars of the chunks
 * that changed since the last frame (and the ones still open, which grow), never all of them.
 * Events only mark chunks changed; drawing happens at most once per animation frame.
 *
 * Each bar is a `<g data-chunk data-row data-session>` whose `<rect data-phase>` children carry
 * their times in `x` / `width` (ms from the download's start): the browser test reads them.
 *
 * @module
 */

import { formatDuration } from "./format-units.ts";
import type { ChunkEventTarget } from "./timeline-events.ts";
import { type ChunkTimes, TimelineModel } from "./timeline-model.ts";

const SVG = "http://www.w3.org/2000/svg";
/**
 * Pixels per lane; a row is at least `MIN_ROW_PX` high. With many chunks in flight per session
 * lanes get thinner (down to `MIN_LANE_PX`) so the timeline stays about `MAX_HEIGHT_PX` high.
 */
const LANE_PX = 7;
const MIN_LANE_PX = 1.5;
const MAX_HEIGHT_PX = 320;
const MIN_ROW_PX = 18;
/**
 * The most chunks drawn: a bar is a few SVG elements, so a file of a million chunks would make the
 * page slow. Beyond it, the timeline shows the first chunks requested and says so.
 */
const MAX_BARS = 4096;
/**
 * A bar fills this much of its lane (the rest separates lanes). Short phases (a reply that came in
 * one socket read, a digest of a few KiB) would be thinner than a pixel at the scale of a whole
 * download: style.css gives them a stroke that does not scale (`vector-effect`), so they show as
 * at least a line at their true place, about a pixel above and below the bar.
 */
const BAR = 0.6;

type Phase = "wait" | "receive" | "queue" | "verify";
const PHASES: readonly { phase: Phase; label: string }[] = [
  { phase: "wait", label: "Request → first byte" },
  { phase: "receive", label: "First → last byte" },
  { phase: "queue", label: "Waiting for the digest check" },
  { phase: "verify", label: "SHA-256 verification" },
];

interface Bar {
  readonly group: SVGGElement;
  readonly title: SVGTitleElement;
  readonly rects: Record<Phase, SVGRectElement>;
  /** The open phase's rect and start (ms on the axis): a frame only widens it. */
  growing?: { readonly rect: SVGRectElement; readonly x: number };
}

export class DownloadTimeline implements ChunkEventTarget {
  readonly #model = new TimelineModel();
  readonly #labels: HTMLElement;
  readonly #svg: SVGSVGElement;
  readonly #rowLines: SVGGElement;
  readonly #barLayer: SVGGElement;
  /** One group per row, moved as a whole when rows above it gain lanes. */
  #rowGroups: SVGGElement[] = [];
  readonly #axisEnd: HTMLElement;
  readonly #note: HTMLElement;
  readonly #bars = new Map<number, Bar>();
  /** Chunks whose current phase is still open: their bar grows each frame. */
  readonly #open = new Set<ChunkTimes>();
  /** The session that fetched each chunk, as the page's own client wrapper saw it. */
  readonly #sessions = new Map<number, number>();
  /** Lanes per row when the bars were last placed (a change moves every bar). */
  #layout = "";
  #frame = 0;
  #running = false;

  /** Builds the timeline inside `container` (a `<figure>`; its caption stays). */
  constructor(container: HTMLElement) {
    const body = container.appendChild(document.createElement("div"));
    body.className = "timeline";
    this.#labels = body.appendChild(document.createElement("div"));
    this.#labels.className = "timeline-rows";
    this.#svg = body.appendChild(document.createElementNS(SVG, "svg"));
    this.#svg.id = "timeline";
    this.#svg.setAttribute("preserveAspectRatio", "none");
    this.#svg.setAttribute("role", "img");
    this.#svg.setAttribute("aria-label", "Timeline of the download's chunks per session");
    this.#rowLines = this.#svg.appendChild(document.createElementNS(SVG, "g"));
    this.#rowLines.setAttribute("class", "timeline-row-lines");
    this.#barLayer = this.#svg.appendChild(document.createElementNS(SVG, "g"));
    const axis = container.appendChild(document.createElement("p"));
    axis.className = "timeline-axis muted small";
    axis.appendChild(document.createElement("span")).textContent = "0";
    this.#axisEnd = axis.appendChild(document.createElement("span"));
    this.#note = container.appendChild(document.createElement("p"));
    this.#note.className = "muted small";
    this.#note.hidden = true;
    const legend = container.appendChild(document.createElement("ul"));
    legend.className = "legend";
    for (const { phase, label } of [...PHASES, { phase: "failed", label: "Failed attempt" }]) {
      const item = legend.appendChild(document.createElement("li"));
      const swatch = item.appendChild(document.createElement("span"));
      swatch.className = `swatch timeline-${phase}`;
      swatch.setAttribute("aria-hidden", "true");
      item.append(label);
    }
  }

  /** A download starts over `sessions` (their labels), now. */
  begin(sessions: readonly string[]): void {
    this.#model.reset(sessions.length, performance.now());
    this.#bars.clear();
    this.#open.clear();
    this.#sessions.clear();
    this.#rowGroups = sessions.map(() => document.createElementNS(SVG, "g"));
    this.#barLayer.replaceChildren(...this.#rowGroups);
    this.#layout = "";
    this.#running = true;
    this.#note.hidden = true;
    this.#labels.replaceChildren(...sessions.map((label, row) => {
      const div = document.createElement("div");
      div.textContent = `#${row + 1}`;
      div.title = label;
      return div;
    }));
    this.#schedule();
  }

  /** The download ended: draw what is there and stop growing open bars. */
  end(): void {
    this.#running = false;
    this.#schedule();
  }

  requested(index: number, row: number, time: number): void {
    if (this.#model.chunks.size >= MAX_BARS && !this.#model.chunks.has(index)) {
      this.#note.textContent = `Showing the first ${MAX_BARS} chunks requested.`;
      this.#note.hidden = false;
      return;
    }
    this.#model.requested(index, row, time);
    this.#schedule();
  }

  replied(index: number, firstByte: number | undefined, lastByte: number, failure?: string): void {
    this.#model.replied(index, firstByte, lastByte, failure);
    this.#schedule();
  }

  /** The page's own record: chunk `index` was fetched through session `session`. */
  fetchedOn(index: number, session: number): void {
    this.#sessions.set(index, session);
    const bar = this.#bars.get(index);
    if (bar !== undefined) bar.group.dataset.session = String(session);
  }

  /** The page hashed chunk `index` from `start` to `end` (`performance.now()`). */
  verified(index: number, start: number, end: number): void {
    this.#model.verified(index, start, end);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#frame === 0) {
      this.#frame = requestAnimationFrame(() => {
        this.#frame = 0;
        this.#draw();
      });
    }
  }

  #draw(): void {
    const model = this.#model;
    const now = this.#running ? performance.now() : model.latest;
    const span = Math.max(now - model.origin, 1);
    const offsets: number[] = [];
    let lanes = 0;
    for (let row = 0; row < model.rowCount; row++) {
      offsets.push(lanes);
      lanes += Math.max(model.lanesOf(row), MIN_ROW_PX / LANE_PX);
    }
    const lanePx = Math.min(LANE_PX, Math.max(MIN_LANE_PX, MAX_HEIGHT_PX / Math.max(lanes, 1)));
    const layout = `${offsets.join(",")}/${lanePx}`;
    if (layout !== this.#layout) {
      this.#layout = layout;
      this.#drawRows(offsets, lanes, lanePx);
    }
    this.#svg.setAttribute("viewBox", `0 0 ${span} ${Math.max(lanes, 1)}`);
    this.#svg.style.height = `${Math.max(lanes, 1) * lanePx}px`;
    for (const line of this.#rowLines.children) line.setAttribute("width", String(span));
    this.#axisEnd.textContent = formatDuration(span);
    const changed = model.takeChanged();
    for (const chunk of changed) this.#drawChunk(chunk, now);
    // Open bars that nothing happened to only grow to now.
    const axisNow = now - model.origin;
    for (const chunk of this.#open) {
      if (changed.has(chunk)) continue;
      const growing = this.#bars.get(chunk.index)?.growing;
      growing?.rect.setAttribute("width", Math.max(axisNow - growing.x, 0).toFixed(3));
    }
    if (this.#running && this.#open.size > 0) this.#schedule();
  }

  #drawRows(offsets: readonly number[], lanes: number, lanePx: number): void {
    this.#rowLines.replaceChildren(...offsets.map((offset, row) => {
      const line = document.createElementNS(SVG, "rect");
      const height = (offsets[row + 1] ?? lanes) - offset;
      line.setAttribute("x", "0");
      line.setAttribute("y", String(offset));
      line.setAttribute("height", String(height));
      line.setAttribute("class", row % 2 === 0 ? "timeline-row even" : "timeline-row");
      this.#rowGroups[row]?.setAttribute("transform", `translate(0 ${offset})`);
      (this.#labels.children[row] as HTMLElement | undefined)?.style.setProperty(
        "height",
        `${height * lanePx}px`,
      );
      return line;
    }));
  }

  #drawChunk(chunk: ChunkTimes, now: number): void {
    const bar = this.#barOf(chunk);
    const origin = this.#model.origin;
    const { group, rects } = bar;
    // A chunk retried over another session moves to that session's row.
    const rowGroup = this.#rowGroups[chunk.row]!;
    if (group.parentNode !== rowGroup) rowGroup.appendChild(group);
    group.dataset.row = String(chunk.row);
    group.classList.toggle("failed", chunk.failure !== undefined);
    // Within its row's group: the group carries the row's offset.
    const y = chunk.lane + (1 - BAR) / 2;
    bar.growing = undefined;
    // Each phase ends where the next begins; the open one ends now.
    const edges = [chunk.requested, chunk.firstByte, chunk.lastByte, chunk.verifyStart];
    const ends = [chunk.firstByte, chunk.lastByte, chunk.verifyStart, chunk.verifyEnd];
    const open = chunk.failure === undefined && chunk.verifyEnd === undefined;
    if (open) this.#open.add(chunk);
    else this.#open.delete(chunk);
    PHASES.forEach(({ phase }, i) => {
      const rect = rects[phase];
      const start = edges[i];
      const end = ends[i] ?? (open && start !== undefined ? now : undefined);
      if (start === undefined || end === undefined) {
        rect.setAttribute("width", "0");
        rect.setAttribute("visibility", "hidden");
        return;
      }
      rect.removeAttribute("visibility");
      if (ends[i] === undefined) bar.growing = { rect, x: start - origin };
      rect.setAttribute("x", (start - origin).toFixed(3));
      rect.setAttribute("width", Math.max(end - start, 0).toFixed(3));
      rect.setAttribute("y", y.toFixed(3));
      rect.setAttribute("height", String(BAR));
    });
    bar.title.textContent = describe(chunk, this.#sessions.get(chunk.index));
  }

  #barOf(chunk: ChunkTimes): Bar {
    let bar = this.#bars.get(chunk.index);
    if (bar === undefined) {
      const group = document.createElementNS(SVG, "g");
      group.dataset.chunk = String(chunk.index);
      const session = this.#sessions.get(chunk.index);
      if (session !== undefined) group.dataset.session = String(session);
      const title = group.appendChild(document.createElementNS(SVG, "title"));
      const rects = {} as Record<Phase, SVGRectElement>;
      for (const { phase } of PHASES) {
        const rect = group.appendChild(document.createElementNS(SVG, "rect"));
        rect.dataset.phase = phase;
        rect.setAttribute("class", `timeline-${phase}`);
        rects[phase] = rect;
      }
      this.#rowGroups[chunk.row]!.appendChild(group);
      bar = { group, title, rects };
      this.#bars.set(chunk.index, bar);
    }
    return bar;
  }
}

function describe(chunk: ChunkTimes, session: number | undefined): string {
  const part = (from: number | undefined, to: number | undefined) =>
    from === undefined || to === undefined
      ? "–"
      : to - from < 1000
      ? `${(to - from).toFixed(1)} ms`
      : formatDuration(to - from);
  return `chunk ${chunk.index} · session #${(session ?? chunk.row) + 1}` +
    `${chunk.attempts > 1 ? ` · attempt ${chunk.attempts}` : ""}\n` +
    `request → first byte ${part(chunk.requested, chunk.firstByte)}, ` +
    `receiving ${part(chunk.firstByte, chunk.lastByte)}, ` +
    `verifying ${part(chunk.verifyStart, chunk.verifyEnd)}` +
    (chunk.failure === undefined ? "" : ` · failed: ${chunk.failure}`);
}
