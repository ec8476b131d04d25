/// <reference lib="dom" />
/**
 * The chunk map: one cell per chunk of the file being downloaded, coloured by its state — pending,
 * in flight, done (fetched and checked for length) or failed (the last attempt failed; a retry
 * turns it back to in flight). Drawn on a canvas (thousands of cells stay cheap), only the cells
 * that changed since the last animation frame; the legend under it counts each state in text, and
 * the canvas's accessible name says the same.
 *
 * Colours come from the canvas's CSS custom properties `--chunk-pending`, `--chunk-in-flight`,
 * `--chunk-done` and `--chunk-failed`, so the stylesheet (and its dark scheme) decides them.
 *
 * @module
 */

export const ChunkState = { Pending: 0, InFlight: 1, Done: 2, Failed: 3 } as const;
export type ChunkState = (typeof ChunkState)[keyof typeof ChunkState];

const STATE_NAMES = ["pending", "in flight", "done", "failed"] as const;
const COLOUR_PROPERTIES = [
  "--chunk-pending",
  "--chunk-in-flight",
  "--chunk-done",
  "--chunk-failed",
] as const;
const FALLBACK_COLOURS = ["#d9dde3", "#f0a830", "#2f9e62", "#d64545"] as const;
const GAP = 1;

export class ChunkMap {
  readonly #canvas: HTMLCanvasElement;
  readonly #legend: ReadonlyMap<ChunkState, HTMLElement>;
  #states = new Uint8Array(0);
  readonly #counts = [0, 0, 0, 0];
  #dirty: number[] = [];
  #full = true;
  #frame = 0;
  #colours: string[] = [...FALLBACK_COLOURS];
  #columns = 1;
  #cell = 8;

  /** `legend` maps a state to the element showing its count. */
  constructor(canvas: HTMLCanvasElement, legend: ReadonlyMap<ChunkState, HTMLElement>) {
    this.#canvas = canvas;
    this.#legend = legend;
  }

  /** Starts over with `count` pending chunks. */
  reset(count: number): void {
    this.#states = new Uint8Array(count);
    this.#counts.fill(0);
    this.#counts[ChunkState.Pending] = count;
    this.#dirty = [];
    this.#full = true;
    this.#schedule();
  }

  get count(): number {
    return this.#states.length;
  }

  countOf(state: ChunkState): number {
    return this.#counts[state]!;
  }

  set(index: number, state: ChunkState): void {
    const previous = this.#states[index];
    if (previous === undefined || previous === state) return;
    this.#states[index] = state;
    this.#counts[previous]!--;
    this.#counts[state]!++;
    this.#dirty.push(index);
    this.#schedule();
  }

  /** Redraws everything on the next frame (after a resize or a colour scheme change). */
  invalidate(): void {
    this.#full = true;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#frame === 0) this.#frame = requestAnimationFrame(() => this.#draw());
  }

  #draw(): void {
    this.#frame = 0;
    const context = this.#canvas.getContext("2d");
    if (context === null) return;
    if (this.#full) this.#layout(context);
    const size = this.#cell * devicePixelRatio;
    const step = (this.#cell + GAP) * devicePixelRatio;
    const draw = (index: number) => {
      context.fillStyle = this.#colours[this.#states[index]!]!;
      const x = (index % this.#columns) * step;
      const y = Math.floor(index / this.#columns) * step;
      context.fillRect(x, y, size, size);
    };
    if (this.#full) {
      context.clearRect(0, 0, this.#canvas.width, this.#canvas.height);
      for (let index = 0; index < this.#states.length; index++) draw(index);
    } else {
      for (const index of this.#dirty) draw(index);
    }
    this.#full = false;
    this.#dirty = [];
    this.#describe();
  }

  /** Sizes cells so the map fits the canvas's width, and the canvas's height to the rows. */
  #layout(context: CanvasRenderingContext2D): void {
    const style = getComputedStyle(this.#canvas);
    this.#colours = COLOUR_PROPERTIES.map((name, state) =>
      style.getPropertyValue(name).trim() || FALLBACK_COLOURS[state]!
    );
    const width = Math.max(this.#canvas.clientWidth, 64);
    const count = Math.max(this.#states.length, 1);
    // Largest cell (4–18 px) that keeps the map within about 12 rows' worth of area per 100 px.
    let cell = 18;
    while (cell > 4 && Math.ceil(count / Math.floor(width / (cell + GAP))) * (cell + GAP) > 240) {
      cell--;
    }
    this.#cell = cell;
    this.#columns = Math.max(1, Math.floor(width / (cell + GAP)));
    const rows = Math.ceil(count / this.#columns);
    const height = rows * (cell + GAP);
    this.#canvas.style.height = `${height}px`;
    this.#canvas.width = Math.round(width * devicePixelRatio);
    this.#canvas.height = Math.round(height * devicePixelRatio);
    context.setTransform(1, 0, 0, 1, 0, 0);
  }

  #describe(): void {
    const parts: string[] = [];
    for (let state = 0; state < STATE_NAMES.length; state++) {
      const count = this.#counts[state]!;
      this.#legend.get(state as ChunkState)?.replaceChildren(String(count));
      parts.push(`${count} ${STATE_NAMES[state]}`);
    }
    this.#canvas.setAttribute(
      "aria-label",
      `Chunk map of ${this.#states.length} chunks: ${parts.join(", ")}`,
    );
  }
}
