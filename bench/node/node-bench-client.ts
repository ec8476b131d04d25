/**
 * A bench client in a Node process of its own: `node --import tsx bench/node/node-bench-client.ts
 * KIND HOST PORT`, KIND one of `lent`, `owned`, `raw` (`ws-client-transfers.ts`). Connects once,
 * prints `{"ready":true}`, then for every stdin line `COUNT` runs one transfer of COUNT chunks and
 * prints one JSON line: its figures plus `clientCpuSeconds` (this process's `process.cpuUsage()`
 * over the transfer) or `{"error": "..."}`. Exits when stdin ends.
 *
 * Its own process, so no other contestant's garbage shares its heap: in the runner's process the
 * raw client's rounds paid for the full collections Ferry's garbage brought on.
 *
 * @module
 */

import process from "node:process";
import { createInterface } from "node:readline";
import { isWebSocketClientKind, openWebSocketTransfers } from "./ws-client-transfers.ts";

const [kind = "", host = "", portText = ""] = process.argv.slice(2);
const port = Number(portText);
if (!isWebSocketClientKind(kind) || host === "" || !Number.isInteger(port)) {
  console.error(`node bench client: usage KIND HOST PORT, received ${process.argv.slice(2)}`);
  process.exit(2);
}

const transfers = await openWebSocketTransfers(kind, { host, port });
const reply = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
reply({ ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  const count = Number(line);
  try {
    if (!Number.isInteger(count) || count < 1) throw new Error(`bad chunk count "${line}"`);
    const before = process.cpuUsage();
    const figures = await transfers.transfer(count);
    const used = process.cpuUsage(before);
    reply({ ...figures, clientCpuSeconds: (used.user + used.system) / 1e6 });
  } catch (error) {
    reply({ error: error instanceof Error ? error.message : String(error) });
  }
}
await transfers.close();
process.exit(0);
