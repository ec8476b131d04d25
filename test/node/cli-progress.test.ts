/**
 * `ferry get`'s progress output: a bar redrawn in place on a TTY (percentage, bytes, rate, ETA),
 * plain lines once per 10 % otherwise, nothing with `none`; and the unit formatting.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatBytes, formatDuration, progressView } from "../../cli/progress.ts";

const MiB = 1024 * 1024;

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, columns: 100, writes, write: (text: string) => void writes.push(text) };
}

test("on a TTY: one redrawn bar with percent, bytes, rate and ETA; a newline at the end", () => {
  const out = stream(true);
  const view = progressView(out, "auto");
  view.update({ bytesWritten: 64 * MiB, size: 256 * MiB, bytesFetched: 64 * MiB, elapsedMs: 1000 });
  assert.equal(out.writes.length, 1);
  const line = out.writes[0]!;
  assert.ok(line.startsWith("\r["), line);
  assert.ok(line.includes(" 25.0%  64.0 MiB / 256.0 MiB  64.0 MiB/s  ETA 00:03"), line);
  assert.match(line, /\[#+\.+\]/);
  // Redraws are throttled; the final one always shows.
  view.update({ bytesWritten: 65 * MiB, size: 256 * MiB, bytesFetched: 65 * MiB, elapsedMs: 1010 });
  assert.equal(out.writes.length, 1);
  view.update({
    bytesWritten: 256 * MiB,
    size: 256 * MiB,
    bytesFetched: 256 * MiB,
    elapsedMs: 4000,
  });
  assert.equal(out.writes.length, 2);
  assert.match(out.writes[1]!, /100\.0%.*ETA 00:00/);
  view.finish();
  assert.equal(out.writes.at(-1), "\n");
});

test("the bar fits a 60- and a 40-column terminal: one line, redrawn, no wrap", () => {
  for (const columns of [60, 40, 20]) {
    const out = {
      isTTY: true,
      columns,
      writes: [] as string[],
      write(text: string) {
        this.writes.push(text);
      },
    };
    const view = progressView(out, "auto");
    for (const [done, ms] of [[1, 100], [100 * MiB, 1300], [256 * MiB, 2600]] as const) {
      view.update({ bytesWritten: done, size: 256 * MiB, bytesFetched: done, elapsedMs: ms });
    }
    assert.ok(out.writes.length >= 2); // redraws are throttled; the first and last always show
    for (const write of out.writes) {
      assert.ok(write.startsWith("\r") && write.endsWith("\x1b[K") && !write.includes("\n"));
      const visible = write.slice(1, -3);
      assert.ok(visible.length < columns, `${columns} columns: ${visible.length} ${visible}`);
    }
    if (columns === 60) assert.match(out.writes.at(-1)!, /\[#{10,}\] 100\.0%/);
  }
});

test("not a TTY: a plain line per 10 %; none prints nothing", () => {
  const out = stream(false);
  const view = progressView(out, "auto");
  for (let written = 1; written <= 100; written++) {
    view.update({ bytesWritten: written, size: 100, bytesFetched: written, elapsedMs: written });
  }
  view.finish();
  assert.equal(out.writes.length, 11); // 0 %, 10 %, …, 100 %
  assert.ok(out.writes.every((line) => line.startsWith("progress ") && line.endsWith("\n")));
  assert.match(out.writes.at(-1)!, /100\.0%/);
  const quiet = stream(true);
  const none = progressView(quiet, "none");
  none.update({ bytesWritten: 1, size: 2, bytesFetched: 1, elapsedMs: 1 });
  none.finish();
  assert.deepEqual(quiet.writes, []);
});

test("units", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(256 * MiB), "256.0 MiB");
  assert.equal(formatDuration(59.2), "01:00");
  assert.equal(formatDuration(3725), "1:02:05");
  assert.equal(formatDuration(Infinity), "--:--");
});
