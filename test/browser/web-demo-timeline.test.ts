/**
 * The web demo's download timeline in Debian's Chromium, served by `ferry serve` (a child
 * process, every port 0): a 4 MiB file in 16 KiB chunks (256 chunks, the size the timeline must
 * stay fast for) over 3 gateway sessions. The timeline is drawn from Ferry's request events
 * (`ferry:client:request` / `ferry:client:response` through a `FerryEventListeners` sink) and the
 * page's own digest timings; the test checks that
 *
 * - there is exactly one bar per chunk, and every session has a row with bars;
 * - each bar is on the row of the session the page's own client wrapper saw fetch it (the event's
 *   `connection` matches the leased client's `connectionEventOf`);
 * - each bar's phases are all there and in order: request ≤ first byte ≤ last byte ≤ verification
 *   start ≤ verification end, inside the drawn time span;
 * - bars sharing a lane never overlap;
 * - drawing (every animation-frame callback of the page, timed) is a small share of the download.
 *
 * A screenshot of the panel is kept at `test-artifacts/web-demo-timeline.png`.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { launchChromium } from "../helpers/chromium.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const ARTIFACTS = join(root, "test-artifacts");
const SCREENSHOT = join(ARTIFACTS, "web-demo-timeline.png");
const FILE = "timeline-4MiB.bin";
const CHUNK_SIZE = 16 * 1024;
const FILE_SIZE = 256 * CHUNK_SIZE;
const SESSIONS = 3;
const GUARD = { timeout: 180_000 };

let workspace: string;
let child: ChildProcess | undefined;
let browser: Browser;
let webUrl: string;

before(async () => {
  workspace = mkdtempSync(join(tmpdir(), "ferry-web-timeline-"));
  const folder = join(workspace, "files");
  mkdirSync(folder);
  const bytes = new Uint8Array(FILE_SIZE);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2_654_435_761) >>> 24;
  writeFileSync(join(folder, FILE), bytes);
  const state = join(workspace, "state");
  child = spawn(process.execPath, [
    join(root, "cli", "ferry-bin.mjs"),
    "serve",
    folder,
    ...["--port", "0", "--ws-port", "0", "--http-port", "0"],
    ...["--chunk-size", String(CHUNK_SIZE), "--demo-dir", state],
  ], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, XDG_CACHE_HOME: join(state, "cache") },
  });
  let output = "";
  child.stderr!.setEncoding("utf8").on("data", (text: string) => output += text);
  webUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`ferry serve did not start:\n${output}`)),
      60_000,
    );
    child!.stdout!.setEncoding("utf8").on("data", (text: string) => {
      output += text;
      const match = /^Web demo\s+(http:\/\/\S+)$/m.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child!.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`ferry serve exited (${code ?? signal}) before serving:\n${output}`));
    });
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  if (child !== undefined && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child!.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child!.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

interface DrawnBar {
  chunk: number;
  row: number;
  session: number | undefined;
  failed: boolean;
  /** By phase: [x, width, y], or undefined when hidden. */
  phases: Record<string, [number, number, number] | undefined>;
}

describe("the web demo's download timeline", () => {
  it("draws one bar per chunk on its session's row, with ordered phases", GUARD, async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    const log: string[] = [];
    page.on("console", (message) => log.push(`${message.type()}: ${message.text()}`));
    page.on("pageerror", (error) => log.push(`pageerror: ${error.message}`));
    // Times every animation-frame callback (the timeline's drawing, the chunk map, the progress
    // line): the page's drawing must stay a small share of the download.
    await page.addInitScript(() => {
      const frames = { total: 0, max: 0, count: 0 };
      (globalThis as unknown as { frames: typeof frames }).frames = frames;
      const request = globalThis.requestAnimationFrame.bind(globalThis);
      globalThis.requestAnimationFrame = (callback) =>
        request((time) => {
          const started = performance.now();
          try {
            callback(time);
          } finally {
            const spent = performance.now() - started;
            frames.total += spent;
            frames.max = Math.max(frames.max, spent);
            frames.count++;
          }
        });
    });
    try {
      await page.goto(`${webUrl}?connections=${SESSIONS}&inFlight=12`);
      const started = performance.now();
      await page.getByRole("button", { name: `Download ${FILE}` }).click();
      await page.waitForFunction(
        () => ["verified", "failed"].includes(document.getElementById("download")!.dataset.state!),
        undefined,
        { timeout: 120_000 },
      );
      const elapsedMs = performance.now() - started;
      const state = await page.locator("#download").getAttribute("data-state");
      assert.equal(state, "verified", log.join("\n"));
      // The last frame is drawn after the download settles: wait for every verification bar.
      await page.waitForFunction(
        (count) =>
          document.querySelectorAll(
            '#timeline rect[data-phase="verify"]:not([visibility="hidden"])',
          ).length === count,
        256,
        { timeout: 30_000 },
      );

      const { bars, span, rows } = await page.evaluate(() => {
        const svg = document.getElementById("timeline")!;
        const bars = [...svg.querySelectorAll<SVGGElement>("g[data-chunk]")].map((group) => {
          const phases: Record<string, [number, number, number] | undefined> = {};
          for (const rect of group.querySelectorAll<SVGRectElement>("rect[data-phase]")) {
            phases[rect.dataset.phase!] = rect.getAttribute("visibility") === "hidden"
              ? undefined
              : ["x", "width", "y"].map((name) => Number(rect.getAttribute(name))) as [
                number,
                number,
                number,
              ];
          }
          return {
            chunk: Number(group.dataset.chunk),
            row: Number(group.dataset.row),
            session: group.dataset.session === undefined
              ? undefined
              : Number(group.dataset.session),
            failed: group.classList.contains("failed"),
            phases,
          };
        });
        const span = Number(svg.getAttribute("viewBox")!.split(" ")[2]);
        const rows = document.querySelectorAll(".timeline-rows div").length;
        return { bars, span, rows };
      }) as { bars: DrawnBar[]; span: number; rows: number };

      assert.equal(rows, SESSIONS, "one row per session");
      assert.equal(bars.length, 256, "one bar per chunk");
      assert.deepEqual(
        bars.map((bar) => bar.chunk).sort((a, b) => a - b),
        Array.from({ length: 256 }, (_, i) => i),
        "each chunk once",
      );
      const perRow = new Array<number>(SESSIONS).fill(0);
      const epsilon = 0.002; // the bars' times are written with 3 decimals
      for (const bar of bars) {
        const what = `chunk ${bar.chunk}: ${JSON.stringify(bar)}`;
        assert.equal(bar.failed, false, what);
        assert.equal(bar.row, bar.session, `${what}: the event's row is the fetching session`);
        perRow[bar.row]!++;
        const order = ["wait", "receive", "queue", "verify"].map((phase) => bar.phases[phase]);
        let edge = 0;
        for (const [i, phase] of order.entries()) {
          assert.ok(phase !== undefined, `${what}: phase ${i} is drawn`);
          const [x, width] = phase;
          assert.ok(width >= 0 && x + epsilon >= edge, `${what}: phase ${i} starts after ${edge}`);
          if (i > 0) assert.ok(Math.abs(x - edge) <= epsilon, `${what}: phases are contiguous`);
          edge = x + width;
        }
        assert.ok(edge <= span + epsilon, `${what}: inside the span ${span}`);
      }
      assert.ok(perRow.every((count) => count > 0), `every session fetched chunks: ${perRow}`);

      // Bars in one lane (same row, same y) never overlap in time.
      const lanes = new Map<string, [number, number][]>();
      for (const bar of bars) {
        const [x, , y] = bar.phases.wait!;
        const [vx, vw] = bar.phases.verify!;
        const key = `${bar.row}/${y}`;
        lanes.set(key, [...(lanes.get(key) ?? []), [x, vx + vw]]);
      }
      for (const [key, intervals] of lanes) {
        intervals.sort((a, b) => a[0] - b[0]);
        for (let i = 1; i < intervals.length; i++) {
          assert.ok(
            intervals[i]![0] + epsilon >= intervals[i - 1]![1],
            `lane ${key}: ${intervals[i - 1]} overlaps ${intervals[i]}`,
          );
        }
      }

      const frames = await page.evaluate(() =>
        (globalThis as unknown as { frames: { total: number; max: number; count: number } }).frames
      );
      // Generous bounds (a loaded 2-core machine): drawing is not where the download's time goes.
      assert.ok(frames.total < elapsedMs / 4, `frames took ${frames.total} ms of ${elapsedMs}`);
      assert.ok(frames.max < 250, `the longest frame took ${frames.max} ms`);

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.locator("#timeline-panel").screenshot({ path: SCREENSHOT });
      const mean = (phase: string) =>
        bars.reduce((sum, bar) => sum + bar.phases[phase]![1], 0) / bars.length;
      console.log(
        `timeline: ${FILE} (256 chunks of ${CHUNK_SIZE}) over ${SESSIONS} sessions, 12 in flight: ` +
          `clicked → verified in ${elapsedMs.toFixed(0)} ms; drawn span ${span.toFixed(0)} ms; ` +
          `chunks per session ${perRow.join("/")}, ${lanes.size} lanes; mean request → first ` +
          `byte ${mean("wait").toFixed(2)} ms, receiving ${mean("receive").toFixed(2)} ms, ` +
          `verifying ${mean("verify").toFixed(2)} ms; ${frames.count} animation frames took ` +
          `${frames.total.toFixed(0)} ms in all, the longest ${frames.max.toFixed(1)} ms; ` +
          `screenshot ${SCREENSHOT}`,
      );
    } finally {
      await page.close();
    }
  });
});
