/// <reference lib="dom" />
/**
 * The web demo's entry module (built into `web-demo.js`, linked against `ferry.js`): lists the
 * files of the file service behind the gateway and downloads one with parallel chunk fetches,
 * showing progress, throughput and the chunk map, verifying each chunk's SHA-256 as it arrives,
 * writing it to disk where the browser can (`download-sink.ts`) and offering the file to save.
 * One download at a time; it can be cancelled.
 *
 * @module
 */

import { describeError } from "../../src/mod.ts";
import type { FileInfo } from "../../src/files/mod.ts";
import { connectionEventOf } from "../../src/observability/mod.ts";
import { ChunkState } from "./chunk-map.ts";
import { boundedInteger, type DemoConfig, readDemoConfig } from "./demo-config.ts";
import { DownloadPanel } from "./download-panel.ts";
import { renderFileTable, setDownloadButtonsEnabled } from "./file-table.ts";
import { canStreamToPickedFile, type DownloadSink, openDownloadSink } from "./download-sink.ts";
import { downloadThroughGateway } from "./gateway-download.ts";
import { GatewayFiles } from "./gateway-files.ts";
import { DownloadTimeline } from "./download-timeline.ts";
import { ChunkFetchEvents } from "./timeline-events.ts";
import {
  canPickSaveLocation,
  offerDownload,
  saveWithPicker,
  withdrawDownload,
} from "./save-file.ts";

function element<T extends HTMLElement>(id: string, type: abstract new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) {
    throw new Error(`web demo: #${id} is missing from the page or is not a ${type.name}`);
  }
  return found;
}

const gatewayStatus = element("gateway-status", HTMLElement);
const listStatus = element("list-status", HTMLElement);
const fileRows = element("file-rows", HTMLTableSectionElement);
const refreshButton = element("refresh", HTMLButtonElement);
const connectionsInput = element("connections", HTMLInputElement);
const inFlightInput = element("in-flight", HTMLInputElement);
const cancelButton = element("cancel", HTMLButtonElement);
const saveLink = element("save-link", HTMLAnchorElement);
const saveAsButton = element("save-as", HTMLButtonElement);
const errorBox = element("error", HTMLElement);
const pickFile = element("pick-file", HTMLInputElement);
element("pick-file-label", HTMLElement).hidden = !canStreamToPickedFile();

/** A problem with the page's own address stays shown while nothing else is. */
let addressProblem: string | undefined;

function showError(message: string | undefined): void {
  message ??= addressProblem;
  errorBox.hidden = message === undefined;
  errorBox.textContent = message ?? "";
}

let config: DemoConfig;
try {
  config = readDemoConfig(new URL(location.href));
} catch (error) {
  showError(describeError(error));
  throw error;
}
// Subscribed before the pool opens any session: Ferry taps only connections opened while
// something listens.
const chunkEvents = new ChunkFetchEvents();
const timeline = new DownloadTimeline(element("timeline-panel", HTMLElement));
const files = new GatewayFiles(config);
if (config.problems.length > 0) {
  addressProblem = `The page's address: ${config.problems.join("; ")}.`;
  showError(undefined);
}

const panel = new DownloadPanel({
  section: element("download", HTMLElement),
  name: element("download-name", HTMLElement),
  progress: element("progress", HTMLProgressElement),
  progressText: element("progress-text", HTMLElement),
  sessions: element("sessions", HTMLElement),
  chart: element("throughput", HTMLCanvasElement),
  chartText: element("throughput-text", HTMLElement),
  map: element("chunk-map", HTMLCanvasElement),
  legend: new Map([
    [ChunkState.Pending, element("count-pending", HTMLElement)],
    [ChunkState.InFlight, element("count-in-flight", HTMLElement)],
    [ChunkState.Done, element("count-done", HTMLElement)],
    [ChunkState.Failed, element("count-failed", HTMLElement)],
  ]),
  status: element("verify-status", HTMLElement),
  expected: element("expected-sha256", HTMLElement),
  computed: element("computed-sha256", HTMLElement),
  summary: element("download-summary", HTMLElement),
  saveControls: element("save-controls", HTMLElement),
});

connectionsInput.value = String(config.connections);
inFlightInput.value = String(config.inFlight);
gatewayStatus.textContent = `Gateway ${config.gatewayUrl}${config.token ? " (with token)" : ""}`;

let running: AbortController | undefined;
let saved: { blob: Blob; name: string } | undefined;

async function loadFiles(): Promise<void> {
  refreshButton.disabled = true;
  listStatus.textContent = "Loading the file list…";
  showError(undefined);
  try {
    const list = await files.list();
    renderFileTable(fileRows, list, (file) => void download(file));
    setDownloadButtonsEnabled(fileRows, running === undefined);
    listStatus.textContent = list.length === 0
      ? "The service offers no files."
      : `${list.length} file${list.length === 1 ? "" : "s"} offered by the file service.`;
  } catch (error) {
    listStatus.textContent = "The file list could not be loaded.";
    showError(`Listing files through ${config.gatewayUrl} failed: ${describeError(error)}`);
  } finally {
    refreshButton.disabled = false;
  }
}

async function download(file: FileInfo): Promise<void> {
  if (running !== undefined) return;
  const controller = new AbortController();
  running = controller;
  showError(undefined);
  setDownloadButtonsEnabled(fileRows, false);
  cancelButton.hidden = false;
  withdrawDownload(saveLink);
  saved = undefined;
  let sink: DownloadSink | undefined;
  try {
    // First, while the click's user activation lasts (the file picker needs it).
    sink = await openDownloadSink(file.name, file.size, pickFile.checked);
  } catch (error) {
    showError(`Cannot download ${file.name} here: ${describeError(error)}`);
  }
  if (sink === undefined) {
    running = undefined;
    cancelButton.hidden = true;
    setDownloadButtonsEnabled(fileRows, true);
    return;
  }
  panel.begin(file);
  try {
    const completed = await downloadThroughGateway({
      sink,
      files,
      name: file.name,
      connections: boundedInteger(connectionsInput.value, 1, 16, config.connections),
      inFlight: boundedInteger(inFlightInput.value, 1, 256, config.inFlight),
      observer: panel,
      signal: controller.signal,
      timings: {
        sessions: (clients) => {
          timeline.begin(clients.map((client) => client.remoteAddress));
          chunkEvents.watch(clients.map((client) => connectionEventOf(client)), timeline);
        },
        fetchedOn: (index, session) => timeline.fetchedOn(index, session),
        hashed: (index, start, end) => timeline.verified(index, start, end),
      },
    });
    if (completed.blob !== undefined) {
      saved = { blob: completed.blob, name: completed.file.name };
      offerDownload(saveLink, saved.blob, saved.name);
    }
    saveLink.hidden = completed.blob === undefined;
    panel.succeeded(completed, sink.description);
  } catch (error) {
    await sink.abort();
    if (controller.signal.aborted) panel.cancelled();
    else panel.failedWith(error);
  } finally {
    chunkEvents.unwatch();
    timeline.end();
    running = undefined;
    cancelButton.hidden = true;
    setDownloadButtonsEnabled(fileRows, true);
  }
}

refreshButton.addEventListener("click", () => void loadFiles());
cancelButton.addEventListener("click", () => {
  running?.abort(new DOMException("The download was cancelled", "AbortError"));
});
saveAsButton.hidden = !canPickSaveLocation();
saveAsButton.addEventListener("click", async () => {
  if (saved === undefined) return;
  try {
    await saveWithPicker(saved.blob, saved.name);
  } catch (error) {
    showError(`Saving ${saved.name} failed: ${describeError(error)}`);
  }
});
// Leaving the page ends its gateway sessions; a page restored from the back-forward cache starts
// afresh.
addEventListener("pagehide", () => void files.close());
addEventListener("pageshow", (event) => {
  if (event.persisted) location.reload();
});

void loadFiles();
