/**
 * The web demo in Debian's Chromium: the page (`web-demo/`, built with `buildWebDemo`) is served
 * at `/` with the library at `/ferry.js` and the gateway at `/gateway/<target>`, all on one HTTP
 * port, the way `ferry serve` serves it; behind the gateway, a TCP file service with a small demo
 * folder (a few MiB, in memory). The test clicks through a download and checks that
 *
 * - the page reports the SHA-256 it computed with WebCrypto, equal to the server's;
 * - every chunk ended done in the chunk map, over several gateway sessions at once;
 * - the saved file (the page's Blob download link) has the server's SHA-256;
 * - a file whose bytes do not match the announced SHA-256 is reported as a failure, not saved;
 * - without the gateway token the page says the listing failed.
 *
 * A screenshot of the finished download is kept at `test-artifacts/web-demo.png`.
 *
 * The server here is assembled from the library's pieces (TransportServer + file service on TCP,
 * Gateway on a shared webSocketListen that also serves the static files).
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { tcpConnect, tcpListen } from "../../adapters/node/tcp.ts";
import { webSocketListen } from "../../adapters/node/ws-listen.ts";
import type { FileCatalog } from "../../src/files/file-catalog.ts";
import { memoryFileCatalog } from "../../src/files/file-catalog.ts";
import { fileServiceImplementation } from "../../src/files/file-service-handler.ts";
import { type FileInfo, fileService } from "../../src/files/file-service.ts";
import { Gateway } from "../../src/gateway/gateway.ts";
import { ferryPingResponder } from "../../src/pool/ferry-ping.ts";
import { ServiceRouter } from "../../src/rpc/service-router.ts";
import { OneForOneStreamManager } from "../../src/server/one-for-one-stream-manager.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import type { SocketListener } from "../../src/socket.ts";
import { buildWebDemo, type WebDemoBuild } from "../../web-demo/build-web-demo.ts";
import { launchChromium } from "../helpers/chromium.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const ARTIFACTS = join(root, "test-artifacts");
const SCREENSHOT = join(ARTIFACTS, "web-demo.png");
const TOKEN = "web-demo-test-token";
const DEMO_FILE = "ferry-demo-4MiB.bin";
const TAMPERED_FILE = "tampered.bin";
const CHUNK_SIZE = 64 * 1024;
const GUARD = { timeout: 120_000 };

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

/** The demo folder; `tampered.bin` announces a SHA-256 its bytes do not have. */
function demoCatalog(): FileCatalog {
  const memory = memoryFileCatalog({
    [DEMO_FILE]: demoBytes(4 * 1024 * 1024 + 12_345, 7),
    "notes.txt": new TextEncoder().encode("Ferry web demo: a small text file.\n"),
    [TAMPERED_FILE]: demoBytes(300_000, 11),
  }, { chunkSize: CHUNK_SIZE });
  const lie = (info: FileInfo): FileInfo =>
    info.name === TAMPERED_FILE ? { ...info, sha256: "0".repeat(64) } : info;
  return {
    list: async () => (await memory.list()).map(lie),
    open: async (name) => {
      const file = await memory.open(name);
      return file === undefined ? undefined : { ...file, info: lie(file.info) };
    },
  };
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

/** Serves exactly the built files, `/` being `index.html`. */
function staticFiles(build: WebDemoBuild): (request: Request) => Response {
  const served = new Set(build.files);
  return (request) => {
    const path = new URL(request.url).pathname;
    const name = path === "/" ? "index.html" : path.slice(1);
    if (request.method !== "GET" || !served.has(name)) {
      return new Response(`Not found: ${path}\n`, { status: 404 });
    }
    return new Response(readFileSync(join(build.directory, name)), {
      headers: {
        "content-type": CONTENT_TYPES[extname(name)] ?? "application/octet-stream",
        "cache-control": "no-store",
      },
    });
  };
}

interface DemoServer {
  readonly origin: string;
  readonly files: readonly FileInfo[];
  readonly gateway: Gateway;
  close(): Promise<void>;
}

/** Backend file service on TCP; gateway and static files on one HTTP port in front of it. */
async function startDemoServer(build: WebDemoBuild): Promise<DemoServer> {
  const catalog = demoCatalog();
  const streams = new OneForOneStreamManager();
  const backend = new TransportServer({
    rpcHandler: new ServiceRouter().serve(fileService, fileServiceImplementation(catalog, streams)),
    streamManager: streams,
    interceptor: ferryPingResponder,
  });
  const tcp = await backend.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
  // The page's origin is known only once the port is: the gateway is made right after binding
  // (no upgrade can arrive before the test navigates there).
  const made: { gateway?: Gateway } = {};
  let listener: SocketListener;
  try {
    listener = await webSocketListen({
      host: "127.0.0.1",
      port: 0,
      allowUpgrade: (request) => made.gateway?.allowUpgrade(request) ?? false,
      onRequest: staticFiles(build),
    })((socket, context) => {
      if (made.gateway === undefined || context?.upgrade === undefined) {
        socket.close(new Error("no gateway for this upgrade"));
      } else made.gateway.accept(socket, context.upgrade);
    });
  } catch (error) {
    await backend.close();
    throw error;
  }
  const origin = `http://127.0.0.1:${listener.address.port}`;
  const gateway = made.gateway = new Gateway({
    targets: { files: { host: "127.0.0.1", port: tcp.address.port, peerFeatures: ["ferry"] } },
    connect: (address) => tcpConnect(address),
    allowedOrigins: [origin],
    token: TOKEN,
  });
  return {
    origin,
    files: await catalog.list(),
    gateway,
    close: async () => {
      await listener.close();
      await gateway.close();
      await backend.close();
    },
  };
}

let build: WebDemoBuild;
let buildDirectory: string;
let server: DemoServer;
let browser: Browser;

before(async () => {
  buildDirectory = mkdtempSync(join(tmpdir(), "ferry-web-demo-"));
  build = await buildWebDemo({ outdir: buildDirectory });
  server = await startDemoServer(build);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (buildDirectory) rmSync(buildDirectory, { recursive: true, force: true });
});

/** A fresh page on the demo; page errors and console errors are collected. */
async function openDemo(fragment: string, query = ""): Promise<{ page: Page; log: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const log: string[] = [];
  page.on("console", (message) => log.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => log.push(`pageerror: ${error.message}`));
  await page.goto(`${server.origin}/${query}${fragment}`);
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
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("the web demo in Chromium", () => {
  it(
    "lists the files, downloads one over parallel gateway sessions and verifies its SHA-256",
    GUARD,
    async () => {
      const expected = server.files.find((file) => file.name === DEMO_FILE)!;
      const sessionsBefore = server.gateway.stats().sessions.total;
      const { page, log } = await openDemo(`#token=${TOKEN}`, "?connections=3&inFlight=8");
      try {
        await page.locator(`tr[data-file="${DEMO_FILE}"]`).waitFor();
        assert.deepEqual(
          await page.locator("#file-rows tr").evaluateAll((rows) =>
            rows.map((row) => (row as HTMLElement).dataset.file)
          ),
          server.files.map((file) => file.name),
          "the page lists the service's files in order",
        );

        const started = performance.now();
        const state = await downloadInPage(page, DEMO_FILE);
        const elapsedMs = performance.now() - started;
        assert.equal(state, "verified", `${await text(page, "#verify-status")}\n${log.join("\n")}`);
        const computed = await text(page, "#computed-sha256");
        assert.equal(computed, expected.sha256, "the page's WebCrypto SHA-256 is the server's");
        assert.equal(await text(page, "#expected-sha256"), expected.sha256);
        assert.match(await text(page, "#verify-status"), /SHA-256 verified with WebCrypto/);

        // The chunk map's legend: every chunk done, nothing pending or failed.
        await page.waitForFunction(
          (count) => document.getElementById("count-done")!.textContent === String(count),
          expected.chunkCount,
        );
        for (const [id, count] of [["pending", 0], ["in-flight", 0], ["failed", 0]] as const) {
          assert.equal(await text(page, `#count-${id}`), String(count), `${id} chunks`);
        }
        assert.equal(
          await page.locator("#progress").evaluate((p) => (p as HTMLProgressElement).value),
          expected.size,
        );
        const sessions = server.gateway.stats().sessions.total - sessionsBefore;
        assert.ok(
          sessions >= 3,
          `the download used 3 gateway sessions at once (opened ${sessions})`,
        );

        // Saving: the Blob behind the link is the file.
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.getByRole("link", { name: "Save file" }).click(),
        ]);
        assert.equal(download.suggestedFilename(), DEMO_FILE);
        const saved = readFileSync(await download.path());
        assert.equal(saved.byteLength, expected.size);
        assert.equal(sha256(saved), expected.sha256, "the saved file has the server's SHA-256");

        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: SCREENSHOT, fullPage: true });
        console.log(
          `web demo: ${DEMO_FILE} (${expected.size} bytes, ${expected.chunkCount} chunks of ` +
            `${CHUNK_SIZE}) over ${sessions} gateway sessions, 8 in flight: clicked → verified in ` +
            `${elapsedMs.toFixed(0)} ms; page says "${await text(page, "#download-summary")}"; ` +
            `${await text(
              page,
              "#throughput-text",
            )}; SHA-256 ${computed}; screenshot ${SCREENSHOT}`,
        );
        assert.deepEqual(log.filter((line) => /^(pageerror|error)/.test(line)), []);
      } finally {
        await page.close();
      }
    },
  );

  it("reports a file whose bytes do not match the announced SHA-256 as failed", GUARD, async () => {
    const { page, log } = await openDemo(`#token=${TOKEN}`);
    try {
      const state = await downloadInPage(page, TAMPERED_FILE);
      assert.equal(state, "failed", log.join("\n"));
      assert.match(
        await text(page, "#verify-status"),
        /Download failed: SHA-256 mismatch for tampered\.bin: expected 0{64}, computed [0-9a-f]{64}/,
      );
      assert.equal(await page.locator("#save-controls").isHidden(), true, "nothing to save");
    } finally {
      await page.close();
    }
  });

  it("says so when the gateway refuses the page (no token)", GUARD, async () => {
    const { page } = await openDemo("");
    try {
      const alert = page.getByRole("alert");
      await alert.waitFor();
      assert.match(
        await alert.innerText(),
        /Listing files through ws:\/\/.*\/gateway\/files failed/,
      );
      assert.equal(await page.locator("#file-rows tr").count(), 0);
    } finally {
      await page.close();
    }
  });
});
