/// <reference lib="dom" />
/**
 * Saving a downloaded file: a `Blob` behind an `<a download>` link works in every browser; where
 * the File System Access API exists (`showSaveFilePicker`, Chromium), a "Save as…" button lets the
 * user pick the place and writes the file there.
 *
 * @module
 */

/** The part of the File System Access API used here (not in TypeScript's DOM library yet). */
interface SaveFilePickerWindow {
  showSaveFilePicker(options: { suggestedName: string }): Promise<{
    createWritable(): Promise<{ write(data: Blob): Promise<void>; close(): Promise<void> }>;
  }>;
}

/** Whether this browser can show a save dialog. */
export function canPickSaveLocation(): boolean {
  return typeof (globalThis as Partial<SaveFilePickerWindow>).showSaveFilePicker === "function";
}

/** Points `link` at `blob` as a download named `name`; revokes the URL it pointed at before. */
export function offerDownload(link: HTMLAnchorElement, blob: Blob, name: string): void {
  if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(blob);
  link.download = name;
}

/** Forgets a file offered with `offerDownload` (its memory can then be reclaimed). */
export function withdrawDownload(link: HTMLAnchorElement): void {
  if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
  link.removeAttribute("href");
}

/**
 * Asks where to save `blob` and writes it there. Resolves false when the user cancels the dialog;
 * rejects when the browser cannot save (no API, no permission, a write error).
 */
export async function saveWithPicker(blob: Blob, name: string): Promise<boolean> {
  const picker = (globalThis as Partial<SaveFilePickerWindow>).showSaveFilePicker;
  if (picker === undefined) throw new Error("This browser has no save dialog (showSaveFilePicker)");
  let handle;
  try {
    handle = await picker.call(globalThis, { suggestedName: name });
  } catch (error) {
    if ((error as { name?: string })?.name === "AbortError") return false;
    throw error;
  }
  const writable = await handle.createWritable();
  await writable.write(blob);
  await writable.close();
  return true;
}
