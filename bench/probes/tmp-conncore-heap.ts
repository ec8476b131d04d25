/**
 * What one idle server connection holds: `node --import tsx bench/probes/connection-heap.ts [N]`
 * starts the `scale` case's server (own process, `--expose-gc`), writes a heap snapshot, opens N
 * idle connections (default 2 000) the way the scale case does (one Ferry ping, then the heartbeat),
 * writes a second snapshot, and prints per connection: heap, RSS and ArrayBuffer growth, the
 * object kinds whose count or self size grew most (V8 `type:name`, count and bytes per
 * connection), and for the largest anonymous kinds (property backing stores, closures, contexts,
 * ArrayBuffer memory) who holds them, three retainers up. Read with `bench/cases/scale.ts`.
 *
 * @module
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { FreshServer } from "../harness/fresh-server.ts";
import { ScriptProcess } from "../harness/script-process.ts";
import { benchHost } from "../servers/running-server.ts";

interface HeapSnapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[]];
      edge_fields: string[];
      edge_types: [string[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Kinds whose bytes are broken down by who holds them (three retainers up). */
const traced = new Set([
  "array:(object properties)",
  "native:system / JSArrayBufferData",
  "closure:",
  "object:Object",
  "object:system / Context",
]);

/**
 * Count and self size of every `type:name` in a snapshot file, and of every traced kind by its
 * retainer chain (`kind <- holder <- holder's holder ...`, first non-weak retainer each).
 */
function summarize(file: string): Map<string, { count: number; bytes: number }> {
  const snapshot = JSON.parse(readFileSync(file, "utf8")) as HeapSnapshot;
  const meta = snapshot.snapshot.meta;
  const types = meta.node_types[0];
  const width = meta.node_fields.length;
  const typeAt = meta.node_fields.indexOf("type");
  const nameAt = meta.node_fields.indexOf("name");
  const sizeAt = meta.node_fields.indexOf("self_size");
  const edgeCountAt = meta.node_fields.indexOf("edge_count");
  const edgeWidth = meta.edge_fields.length;
  const edgeTypeAt = meta.edge_fields.indexOf("type");
  const edgeToAt = meta.edge_fields.indexOf("to_node");
  const edgeTypes = meta.edge_types[0];
  const nodeCount = snapshot.nodes.length / width;
  const kindOf = (node: number) => {
    const type = types[snapshot.nodes[node * width + typeAt]!]!;
    let name = snapshot.strings[snapshot.nodes[node * width + nameAt]!]!;
    // Strings, code and numbers are named by their content: group them by type alone.
    if (type.includes("string") || type === "code" || type === "number") name = "";
    return `${type}:${name.slice(0, 50)}`;
  };
  // First strong retainer of every node.
  const retainer = new Int32Array(nodeCount).fill(-1);
  let edge = 0;
  for (let node = 0; node < nodeCount; node++) {
    const edges = snapshot.nodes[node * width + edgeCountAt]!;
    for (let i = 0; i < edges; i++, edge += edgeWidth) {
      if (edgeTypes[snapshot.edges[edge + edgeTypeAt]!] === "weak") continue;
      const to = snapshot.edges[edge + edgeToAt]! / width;
      if (retainer[to] === -1) retainer[to] = node;
    }
  }
  const kinds = new Map<string, { count: number; bytes: number }>();
  const add = (key: string, bytes: number) => {
    const entry = kinds.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += bytes;
    kinds.set(key, entry);
  };
  for (let node = 0; node < nodeCount; node++) {
    const kind = kindOf(node);
    const bytes = snapshot.nodes[node * width + sizeAt]!;
    add(kind, bytes);
    if (!traced.has(kind)) continue;
    const chain = [kind];
    for (let up = retainer[node]!, depth = 0; up >= 0 && depth < 3; up = retainer[up]!, depth++) {
      chain.push(kindOf(up));
    }
    add(`  ${chain.join(" <- ")}`, bytes);
  }
  return kinds;
}

const connections = Number(process.argv[2] ?? 2_000);
const dir = mkdtempSync(join(tmpdir(), "ferry-connection-heap-"));
const server = await FreshServer.start(["ferry-heartbeat"], {
  flags: ["--expose-gc"],
  raiseDescriptorLimit: true,
});
const clients = ScriptProcess.node(
  "bench/node/scale-clients.ts",
  [benchHost, String(server.ports["ferry-heartbeat"]), "5000"],
  { raiseDescriptorLimit: true },
);
try {
  await clients.ready();
  // One connection first, so per-server state made on the first connection is in both snapshots.
  await clients.request("open 1");
  const before = await server.memory();
  await server.heapSnapshot(join(dir, "before.heapsnapshot"));
  await clients.request(`open ${connections}`);
  const after = await server.memory();
  await server.heapSnapshot(join(dir, "after.heapsnapshot"));
  const per = (a: number, b: number) => ((b - a) / connections).toFixed(0);
  console.log(
    `${connections} idle connections; per connection: heap ${
      per(before.heapUsedBytes, after.heapUsedBytes)
    } B, RSS ${per(before.rssBytes, after.rssBytes)} B, ArrayBuffers ${
      per(before.arrayBuffersBytes, after.arrayBuffersBytes)
    } B, external ${per(before.externalBytes, after.externalBytes)} B`,
  );
  const first = summarize(join(dir, "before.heapsnapshot"));
  const second = summarize(join(dir, "after.heapsnapshot"));
  const growth = [...second].map(([key, { count, bytes }]) => {
    const old = first.get(key) ?? { count: 0, bytes: 0 };
    return {
      key,
      count: (count - old.count) / connections,
      bytes: (bytes - old.bytes) / connections,
    };
  }).filter((entry) => entry.bytes > 8 || entry.count >= 0.9);
  growth.sort((a, b) => b.bytes - a.bytes);
  let total = 0;
  for (const entry of growth) if (!entry.key.startsWith(" ")) total += entry.bytes;
  console.log(`snapshot growth: ${total.toFixed(0)} B per connection; largest kinds:`);
  console.log("bytes/conn  count/conn  type:name");
  const kinds = growth.filter((entry) => !entry.key.startsWith(" ")).slice(0, 90);
  for (const entry of kinds) {
    console.log(
      `${entry.bytes.toFixed(0).padStart(10)}  ${
        entry.count.toFixed(2).padStart(10)
      }  ${entry.key}`,
    );
  }
  console.log("\nthe traced kinds by holder (kind <- holder <- its holder <- ...):");
  for (const entry of growth.filter((e) => e.key.startsWith(" ") && e.bytes >= 24).slice(0, 40)) {
    console.log(
      `${entry.bytes.toFixed(0).padStart(10)}  ${entry.count.toFixed(2).padStart(10)}${entry.key}`,
    );
  }
} finally {
  await Promise.all([clients.stop(), server.stop()]);
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
