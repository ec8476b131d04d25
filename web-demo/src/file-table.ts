/// <reference lib="dom" />
/**
 * The table of files the service offers: name, size, chunks (count × size) and SHA-256 (shortened
 * on screen, complete in the cell's title and for screen readers), with a Download button per row.
 *
 * @module
 */

import type { FileInfo } from "../../src/files/mod.ts";
import { formatBytes } from "./format-units.ts";

/** Fills `body` with one row per file; `onDownload` is called with the file whose button is pressed. */
export function renderFileTable(
  body: HTMLTableSectionElement,
  files: readonly FileInfo[],
  onDownload: (file: FileInfo) => void,
): void {
  const rows = files.map((file) => {
    const row = document.createElement("tr");
    row.dataset.file = file.name;

    const name = document.createElement("th");
    name.scope = "row";
    name.className = "file-name";
    name.textContent = file.name;

    const size = cell(formatBytes(file.size), "numeric");
    size.title = `${file.size.toLocaleString("en")} bytes`;

    const chunks = cell(
      `${file.chunkCount.toLocaleString("en")} × ${formatBytes(file.chunkSize)}`,
      "numeric",
    );

    const hash = cell("", "hash");
    const short = document.createElement("code");
    short.textContent = `${file.sha256.slice(0, 12)}…`;
    short.title = file.sha256;
    short.setAttribute("aria-label", `SHA-256 ${file.sha256}`);
    hash.append(short);

    const action = cell("", "action");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "download-button";
    button.textContent = "Download";
    button.setAttribute("aria-label", `Download ${file.name}`);
    button.addEventListener("click", () => onDownload(file));
    action.append(button);

    row.append(name, size, chunks, hash, action);
    return row;
  });
  body.replaceChildren(...rows);
}

/** Enables or disables every Download button (one download at a time). */
export function setDownloadButtonsEnabled(body: HTMLTableSectionElement, enabled: boolean): void {
  for (const button of body.querySelectorAll<HTMLButtonElement>("button.download-button")) {
    button.disabled = !enabled;
  }
}

function cell(text: string, className: string): HTMLTableCellElement {
  const td = document.createElement("td");
  td.className = className;
  td.textContent = text;
  return td;
}
