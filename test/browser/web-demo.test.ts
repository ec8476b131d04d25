/**
 * The web demo in Debian's Chromium, served by `ferry serve` (the CLI, as a child process, every
 * port 0) from a small demo folder (a few MiB): the page at `/`, the library at `/ferry.js`, the
 * gateway at `/gateway/files`, on one HTTP port. The test clicks through a download and checks
 * that
 *
 * - the page lists the folder's files, and the SHA-256 the server announces for the download is
 *   the one Node computes for the file on disk;
 * - the page reports the SHA-256 it computed with WebCrypto, equal to it;
 * - every chunk ended done in the chunk map, over several gateway sessions at once;
 * - the saved file (the page's Blob download link) has that SHA-256;
 * - a file whose bytes silently changed on disk (same size and mtime) is noticed by the server,
 *   hashed again, and downloads verified with its new SHA-256;
 * - the download streams to OPFS; without it, the file is held in memory and the page says so;
 * - a page pointed at a target the gateway does not have says the listing failed.
 *
 * A screenshot of the finished download is kept at `test-artifacts/web-demo.png`.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../helpers/chromium.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const ARTIFACTS = join(root, "test-artifacts");
const SCREENSHOT = join(ARTIFACTS, "web-demo.png");
const DEMO_FILE = "ferry-demo-4MiB.bin";
const TAMPERED_FILE = "tampered.bin";
const CHUNK_SIZE = 64 * 1024;
/** A fixed mtime (whole seconds) for the tampered file, restored after its bytes change. */
const FIXED_MTIME_S = 1_700_000_000;
const GUARD = { timeout: 120_000 };
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Deterministic bytes (xorshift32), so a failure can be reproduced. */
function demoBytes(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

/** The demo folder's files, by name. */
const DEMO_FILES: Readonly<Record<string, Uint8Array>> = {
  [DEMO_FILE]: demoBytes(4 * 1024 * 1024 + 12_345, 7),
  "notes.txt": new TextEncoder().encode("Ferry web demo: a small text file.\n"),
  [TAMPERED_FILE]: demoBytes(300_000, 11),
};

/** `ferry serve` as a child process, until `stop()`. */
interface ServeProcess {
  /** The web demo's URL, e.g. `http://127.0.0.1:41234/`. */
  readonly webUrl: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

async function startFerryServe(folder: string, state: string): Promise<ServeProcess> {
  const child: ChildProcess = spawn(process.execPath, [
    join(root, "cli", "ferry-bin.mjs"),
    "serve",
    folder,
    "--port",
    "0",
    "--ws-port",
    "0",
    "--http-port",
    "0",
    "--chunk-size",
    String(CHUNK_SIZE),
    "--demo-dir",
    state,
  ], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    // serve caches digests per user: keep this run's cache with its state.
    env: { ...process.env, XDG_CACHE_HOME: join(state, "cache") },
  });
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (text: string) => output += text);
  child.stderr!.setEncoding("utf8").on("data", (text: string) => output += text);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const webUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`ferry serve did not start:\n${output}`)),
        60_000,
      );
      const look = () => {
        const match = /^Web demo\s+(http:\/\/\S+)$/m.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      };
      child.stdout!.on("data", look);
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`ferry serve exited (${code ?? signal}) before serving:\n${output}`));
      });
    });
    return { webUrl, output: () => output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

let workspace: string;
let serve: ServeProcess;
let browser: Browser;

before(async () => {
  workspace = mkdtempSync(join(tmpdir(), "ferry-web-demo-"));
  const folder = join(workspace, "files");
  mkdirSync(folder);
  for (const [name, bytes] of Object.entries(DEMO_FILES)) writeFileSync(join(folder, name), bytes);
  utimesSync(join(folder, TAMPERED_FILE), FIXED_MTIME_S, FIXED_MTIME_S);
  serve = await startFerryServe(folder, join(workspace, "state"));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await serve?.stop();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

/** A fresh page on the demo; page errors and console errors are collected. */
async function openDemo(query = ""): Promise<{ page: Page; log: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const log: string[] = [];
  page.on("console", (message) => log.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => log.push(`pageerror: ${error.message}`));
  await page.goto(`${serve.webUrl}${query}`);
  return { page, log };
}

/** Clicks Download on `name`'s row and waits until the download is verified or has failed. */
async function downloadInPage(page: Page, name: string): Promise<string> {
  await page.getByRole("button", { name: `Download ${name}` }).click();
  await page.waitForFunction(
    () => ["verified", "failed"].includes(document.getElementById("download")!.dataset.state!),
    undefined,
    { timeout: 60_000 },
  );
  return await page.locator("#download").getAttribute("data-state") as string;
}

const text = (page: Page, selector: string) => page.locator(selector).innerText();

describe("the web demo in Chromium, served by ferry serve", () => {
  it(
    "lists the files, downloads one over parallel gateway sessions and verifies its SHA-256",
    GUARD,
    async () => {
      const bytes = DEMO_FILES[DEMO_FILE]!;
      const expected = sha256(bytes);
      const chunkCount = Math.ceil(bytes.byteLength / CHUNK_SIZE);
      const { page, log } = await openDemo("?connections=3&inFlight=8");
      try {
        await page.locator(`tr[data-file="${DEMO_FILE}"]`).waitFor();
        assert.deepEqual(
          await page.locator("#file-rows tr").evaluateAll((rows) =>
            rows.map((row) => (row as HTMLElement).dataset.file)
          ),
          Object.keys(DEMO_FILES).sort(),
          "the page lists the folder's files",
        );

        const started = performance.now();
        const state = await downloadInPage(page, DEMO_FILE);
        const elapsedMs = performance.now() - started;
        assert.equal(state, "verified", `${await text(page, "#verify-status")}\n${log.join("\n")}`);
        assert.equal(await text(page, "#expected-sha256"), expected, "the server announced it");
        const computed = await text(page, "#computed-sha256");
        assert.equal(computed, expected, "the page's WebCrypto SHA-256 is the file's");
        assert.match(await text(page, "#verify-status"), /SHA-256 verified with WebCrypto/);
        // The final progress line and the summary state the same rate; no time left is shown.
        const finalLine = await text(page, "#progress-text");
        const summaryRate = /\(([\d.]+ \S+\/s)\)/.exec(await text(page, "#download-summary"))?.[1];
        assert.ok(summaryRate !== undefined && finalLine.endsWith(` · ${summaryRate}`), finalLine);
        assert.doesNotMatch(finalLine, /left/);
        assert.match(
          await text(page, "#sessions"),
          /^3 gateway sessions · 65 chunks of 64\.0 KiB$/,
        );

        // The chunk map's legend: every chunk done, nothing pending or failed.
        await page.waitForFunction(
          (count) => document.getElementById("count-done")!.textContent === String(count),
          chunkCount,
        );
        for (const id of ["pending", "in-flight", "failed"]) {
          assert.equal(await text(page, `#count-${id}`), "0", `${id} chunks`);
        }
        assert.equal(
          await page.locator("#progress").evaluate((p) => (p as HTMLProgressElement).value),
          bytes.byteLength,
        );

        // Saving: the Blob behind the link is the file.
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.getByRole("link", { name: "Save file" }).click(),
        ]);
        assert.equal(download.suggestedFilename(), DEMO_FILE);
        const saved = readFileSync(await download.path());
        assert.equal(saved.byteLength, bytes.byteLength);
        assert.equal(sha256(saved), expected, "the saved file has the file's SHA-256");

        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: SCREENSHOT, fullPage: true });
        console.log(
          `web demo via ferry serve: ${DEMO_FILE} (${bytes.byteLength} bytes, ${chunkCount} ` +
            `chunks of ${CHUNK_SIZE}) over 3 gateway sessions, 8 in flight: clicked → verified ` +
            `in ${elapsedMs.toFixed(0)} ms; page says "${await text(page, "#download-summary")}"` +
            `; ${await text(page, "#throughput-text")}; SHA-256 ${computed}; screenshot ` +
            SCREENSHOT,
        );
        assert.deepEqual(log.filter((line) => /^(pageerror|error)/.test(line)), []);
      } finally {
        await page.close();
      }
    },
  );

  it(
    "a file whose bytes changed behind the server's back (same size and mtime) downloads as its new self",
    GUARD,
    async () => {
      const original = DEMO_FILES[TAMPERED_FILE]!;
      const changed = original.slice();
      changed[changed.length >> 1]! ^= 0xff;
      const path = join(workspace, "files", TAMPERED_FILE);
      writeFileSync(path, changed);
      // Same size and mtime: only the ctime tells the server the file changed; it rehashes it.
      utimesSync(path, FIXED_MTIME_S, FIXED_MTIME_S);
      const { page, log } = await openDemo();
      try {
        const state = await downloadInPage(page, TAMPERED_FILE);
        assert.equal(state, "verified", log.join("\n"));
        assert.notEqual(sha256(original), sha256(changed));
        assert.equal(await text(page, "#computed-sha256"), sha256(changed));
      } finally {
        await page.close();
      }
    },
  );

  it("cancels a download, and the next one still works", GUARD, async () => {
    const { page, log } = await openDemo();
    try {
      await page.locator(`tr[data-file="${DEMO_FILE}"]`).waitFor();
      // Cancel in the same task as the click: deterministic, before any session is leased.
      await page.evaluate((name) => {
        document.querySelector<HTMLButtonElement>(`tr[data-file="${name}"] button`)!.click();
        document.querySelector<HTMLButtonElement>("#cancel")!.click();
      }, DEMO_FILE);
      await page.waitForFunction(() =>
        document.getElementById("download")!.dataset.state === "cancelled"
      );
      assert.equal(await text(page, "#verify-status"), "Download cancelled.");
      assert.doesNotMatch(await text(page, "#progress-text"), /left/);
      assert.equal(await page.locator("#cancel").isHidden(), true);
      assert.equal(await page.locator("#save-controls").isHidden(), true);
      assert.equal(await text(page, "#count-failed"), "0", "cancelled chunks are not failures");
      assert.equal(await downloadInPage(page, DEMO_FILE), "verified", log.join("\n"));
      assert.equal(await text(page, "#computed-sha256"), sha256(DEMO_FILES[DEMO_FILE]!));
    } finally {
      await page.close();
    }
  });

  it("without OPFS the file is held in memory, and the page says so", GUARD, async () => {
    const page = await browser.newPage();
    // A browser without the origin private file system (and no file picker).
    await page.addInitScript(() => {
      delete (StorageManager.prototype as { getDirectory?: unknown }).getDirectory;
      delete (globalThis as { showSaveFilePicker?: unknown }).showSaveFilePicker;
    });
    try {
      await page.goto(serve.webUrl);
      assert.equal(await downloadInPage(page, DEMO_FILE), "verified");
      assert.match(await text(page, "#download-summary"), /held in memory/);
      assert.equal(await text(page, "#computed-sha256"), sha256(DEMO_FILES[DEMO_FILE]!));
    } finally {
      await page.close();
    }
  });

  it("shows a bad ?connections= value as an error, and uses the default", GUARD, async () => {
    const { page } = await openDemo("?connections=abc");
    try {
      await page.locator(`tr[data-file="${DEMO_FILE}"]`).waitFor();
      assert.match(
        await page.getByRole("alert").innerText(),
        /\?connections="abc" is not a whole number from 1 to 16; using 4/,
      );
      assert.equal(await page.locator("#connections").inputValue(), "4");
    } finally {
      await page.close();
    }
  });

  it("says so when the gateway refuses the page (unknown target)", GUARD, async () => {
    const { page } = await openDemo("?target=nowhere");
    try {
      const alert = page.getByRole("alert");
      await alert.waitFor();
      assert.match(
        await alert.innerText(),
        /Listing files through ws:\/\/.*\/gateway\/nowhere failed/,
      );
      assert.equal(await page.locator("#file-rows tr").count(), 0);
    } finally {
      await page.close();
    }
  });
});
