/**
 * Runs one in-process contestant in a Node process of its own:
 * `node --import tsx bench/node/contestant-host.ts MODULE NAME CONTEXT_JSON`, where MODULE (relative
 * to the repository root) exports `contestants`, a record of {@linkcode Contestant}s, NAME picks
 * one, and CONTEXT_JSON is `{"quick":bool,"ports":{"kind":port,...}}` (the servers it talks to).
 *
 * Opens the contestant, prints `{"ready":true}`, then for every stdin line `warmup` or `measure`
 * runs that phase once and prints one JSON line: its figures plus `clientCpuSeconds`
 * (`process.cpuUsage()` of this process around the run), or `{"error": "..."}`. Exits when stdin
 * ends. Only MODULE is loaded, so a raw baseline's process carries no Ferry code.
 *
 * @module
 */

import { resolve } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { CaseContext, Contestant, RunPhase } from "../harness/bench-case.ts";
import { type ServerAddress, ServerDirectory } from "../harness/server-directory.ts";
import { benchHost } from "../servers/running-server.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const [modulePath = "", name = "", contextJson = "{}"] = process.argv.slice(2);
const reply = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

const module = await import(pathToFileURL(resolve(repoRoot, modulePath)).href) as {
  contestants?: Record<string, Contestant>;
};
const contestant = module.contestants?.[name];
if (contestant === undefined) {
  const known = Object.keys(module.contestants ?? {}).join(", ") || "none";
  console.error(`contestant host: ${modulePath} has no contestant "${name}" (known: ${known})`);
  process.exit(2);
}
const { quick = false, ports = {} } = JSON.parse(contextJson) as {
  quick?: boolean;
  ports?: Record<string, number>;
};
const addresses = new Map<string, ServerAddress>(
  Object.entries(ports).map(([kind, port]) => [kind, { host: benchHost, port }]),
);
const context: CaseContext = { quick, servers: new ServerDirectory(addresses), serverPid: -1 };
const opened = await contestant.open(context);
reply({ ready: true });

const cpuSeconds = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};
for await (const line of createInterface({ input: process.stdin })) {
  try {
    if (line !== "warmup" && line !== "measure") throw new Error(`bad phase "${line}"`);
    const before = cpuSeconds();
    const figures = await opened.run(line as RunPhase);
    reply({ ...figures, clientCpuSeconds: cpuSeconds() - before });
  } catch (error) {
    reply({ error: error instanceof Error ? error.message : String(error) });
  }
}
await opened.close();
// Client libraries (grpc-js) may keep timers around after close: the work is done, so exit.
process.exit(0);
