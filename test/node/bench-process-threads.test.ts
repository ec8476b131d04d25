/**
 * The bench's per-thread CPU and page-fault sampler (`bench/harness/process-threads.ts`), on a
 * child process of its own group that burns CPU in its main thread and touches fresh memory: the
 * delta between two samples names that thread and counts the faults. Nothing timed: the child
 * burns until its own CPU clock says 0.3 s, and touches 32 MiB.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import process from "node:process";
import { sampleThreads, threadDelta } from "../../bench/harness/process-threads.ts";

const CHILD = `
process.stdout.write("ready\\n");
process.stdin.once("data", () => {
  const start = process.cpuUsage();
  const spent = () => { const u = process.cpuUsage(start); return (u.user + u.system) / 1e6; };
  const fresh = new Uint8Array(32 * 1024 * 1024);
  for (let i = 0; i < fresh.length; i += 4096) fresh[i] = 1;
  let x = 0;
  while (spent() < 0.3) for (let i = 0; i < 1e5; i++) x = (x * 31 + i) | 0;
  process.stdout.write("done " + (x & 1) + "\\n");
});
`;

test("a busy thread and fresh memory show in the delta of two samples", {
  timeout: 60_000,
}, async () => {
  const child = spawn(process.execPath, ["-e", CHILD], {
    detached: true, // its own process group, like the bench's Chromium
    stdio: ["pipe", "pipe", "inherit"],
  });
  try {
    child.stdout!.setEncoding("utf8");
    const lines = async function* () {
      let buffered = "";
      for await (const text of child.stdout!) {
        buffered += text;
        let at: number;
        while ((at = buffered.indexOf("\n")) >= 0) {
          yield buffered.slice(0, at);
          buffered = buffered.slice(at + 1);
        }
      }
    }();
    assert.equal((await lines.next()).value, "ready");
    const before = sampleThreads(child.pid!);
    child.stdin!.write("go\n");
    assert.match(String((await lines.next()).value), /^done /);
    const delta = threadDelta(before, sampleThreads(child.pid!));
    // A process without Chromium's --type= is the "browser"; node's main thread is named node.
    assert.ok((delta.threads["browser/node"] ?? 0) >= 0.2, JSON.stringify(delta));
    // At least one: 32 MiB may come as a few huge pages where transparent huge pages are "always".
    assert.ok((delta.minorFaults.browser ?? 0) > 0, JSON.stringify(delta));
    for (const seconds of Object.values(delta.threads)) assert.ok(seconds > 0);
  } finally {
    child.kill();
    await once(child, "exit");
  }
});
