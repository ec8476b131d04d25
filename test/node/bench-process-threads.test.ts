/**
 * The bench's per-thread CPU and page-fault sampler (`bench/harness/process-threads.ts`), on a
 * child process of its own group that burns CPU in its main thread and touches fresh memory: the
 * delta between two samples names that thread and counts the faults. Nothing timed: the child
 * burns until its own CPU clock says 0.3 s, and touches 32 MiB. A `ThreadWatch` keeps the CPU of
 * a worker thread that ended before it stopped, which two samples lose (the watch is read once
 * while the worker lives, so nothing depends on its interval).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import process from "node:process";
import { sampleThreads, threadDelta, ThreadWatch } from "../../bench/harness/process-threads.ts";

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

const WORKER_CHILD = `
const { Worker } = require("node:worker_threads");
process.stdout.write("ready\\n");
process.stdin.once("data", () => {
  const worker = new Worker(\`
    const { parentPort } = require("node:worker_threads");
    const cpu = () => Number(require("node:fs").readFileSync("/proc/thread-self/stat", "utf8")
      .split(") ")[1].split(" ").slice(11, 13).reduce((a, b) => a + Number(b), 0)) / 100;
    let x = 0;
    while (cpu() < 0.4) for (let i = 0; i < 1e5; i++) x = (x * 31 + i) | 0;
    parentPort.postMessage("burnt " + (x & 1));
    parentPort.once("message", () => process.exit(0));
  \`, { eval: true });
  worker.once("message", () => {
    process.stdout.write("burnt\\n");
    process.stdin.once("data", () => worker.postMessage("end"));
  });
  worker.once("exit", () => process.stdout.write("ended\\n"));
});
`;

test("a watch keeps the CPU of a worker thread that ended; two samples lose it", {
  timeout: 60_000,
}, async () => {
  const child = spawn(process.execPath, ["-e", WORKER_CHILD], {
    detached: true,
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
    const watch = new ThreadWatch(child.pid!, 60_000); // read by hand below, not by its timer
    child.stdin!.write("go\n");
    assert.equal((await lines.next()).value, "burnt");
    watch.read(); // the worker is still alive: its 0.4 s are seen
    child.stdin!.write("end\n");
    assert.equal((await lines.next()).value, "ended");
    const watched = watch.stop();
    const sampled = threadDelta(before, sampleThreads(child.pid!));
    const all = (sample: { threads: Record<string, number> }) =>
      Object.values(sample.threads).reduce((a, b) => a + b, 0);
    assert.ok(all(watched) >= 0.4, JSON.stringify(watched));
    assert.ok(all(watched) - all(sampled) >= 0.3, JSON.stringify({ watched, sampled }));
  } finally {
    child.kill();
    await once(child, "exit");
  }
});
