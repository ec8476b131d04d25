/**
 * Keeps the layers honest: `src/` is runtime-neutral and depends only downward; package.json and
 * deno.json export the same entry points.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

function tsFiles(dir: string): string[] {
  if (!existsSync(join(root, dir))) return [];
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const rel = `${dir}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) out.push(...tsFiles(rel));
    else if (name.endsWith(".ts")) out.push(rel);
  }
  return out;
}

const importPattern = /(?:^|\n)\s*(?:import|export)[^;]*?from\s*["']([^"']+)["']/g;

test("src/ never reaches for a runtime or an upper layer", () => {
  const offences: string[] = [];
  for (const file of tsFiles("src")) {
    const text = readFileSync(join(root, file), "utf8");
    for (const match of text.matchAll(importPattern)) {
      const spec = match[1]!;
      if (spec.startsWith("node:") || spec === "ws" || spec === "isomorphic-ws") {
        offences.push(`${file} imports ${spec}`);
      }
      if (/(^|\/)(adapters|web-demo|interop|test|bench)\//.test(spec)) {
        offences.push(`${file} imports ${spec}`);
      }
      if (spec.startsWith(".") && !spec.endsWith(".ts")) {
        offences.push(`${file} imports ${spec} without its .ts suffix`);
      }
    }
    if (
      /\bDeno\.|\brequire\(|\bprocess\.|\bBuffer\./.test(
        text.replace(/\/\/.*|\/\*[\s\S]*?\*\//g, ""),
      )
    ) {
      offences.push(`${file} uses a runtime global (Deno, require, process or Buffer)`);
    }
  }
  assert.deepEqual(offences, []);
});

/** Layers below the pool: they may not import it (nor anything above it). */
const belowPool = [
  "src/protocol/",
  "src/connection/",
  "src/responder/",
  "src/client/",
  "src/server/",
];
/** Layers above the pool and the client: never imported from below them. */
const abovePool = ["pool", "rpc", "gateway", "files", "extensions", "auth", "sasl"];

test("the protocol, connection, responder, client and server layers never import the pool or anything above", () => {
  const offences: string[] = [];
  for (const file of tsFiles("src")) {
    if (!belowPool.some((prefix) => file.startsWith(prefix))) continue;
    const text = readFileSync(join(root, file), "utf8");
    for (const match of text.matchAll(importPattern)) {
      const spec = match[1]!;
      const target = join(file, "..", spec).replaceAll("\\", "/");
      const layer = /^src\/([^/]+)\//.exec(target)?.[1];
      if (layer !== undefined && abovePool.includes(layer)) {
        offences.push(`${file} imports ${spec}`);
      }
      // The responder is typed against `Peer` (src/responder/peer.ts), never the client; the
      // protocol and connection layers know nothing of clients either. Only the server (an
      // acceptor that wraps each socket in the client handlers receive) builds on the client.
      if (layer === "client" && !/^src\/(server|client)\//.test(file)) {
        offences.push(`${file} imports ${spec}`);
      }
    }
  }
  assert.deepEqual(offences, []);
});

/**
 * The layers of `src/`, bottom (0) to top: a folder imports only folders of a lower rank. The
 * files directly in `src/` are the base ("(root)": errors, limits, socket, deadline), except
 * `src/mod.ts`, the public index on top of everything ("mod").
 */
const folderRanks: Record<string, number> = {
  "(root)": 0,
  checksum: 1,
  tls: 1,
  websocket: 1,
  protocol: 1,
  // Metrics and trace hooks (no-ops until an OpenTelemetry SDK or a subscriber listens): every
  // layer above may report to it, so it knows only the wire's message types.
  observability: 2,
  connection: 3,
  responder: 4,
  client: 5,
  server: 6,
  pool: 6,
  // Ferry's optional extensions (ping, heartbeat, cancel, chunk trace context): they plug into the
  // core above through its generic hooks (interceptors, bootstraps, validators, `onAbandoned`,
  // `cancelServing`); nothing at rank 6 or below knows them.
  extensions: 7,
  rpc: 7,
  // The authentication gates install the extensions' responder (`ferryResponder`).
  auth: 8,
  sasl: 9,
  files: 8,
  gateway: 8,
  mod: 10,
};

function folderOf(file: string): string {
  if (file === "src/mod.ts") return "mod";
  return /^src\/([^/]+)\//.exec(file)?.[1] ?? "(root)";
}

/** Folder → folders it imports, each edge with one file import that makes it. */
function folderGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of tsFiles("src")) {
    const from = folderOf(file);
    if (!graph.has(from)) graph.set(from, new Map());
    const text = readFileSync(join(root, file), "utf8");
    for (const match of text.matchAll(importPattern)) {
      const spec = match[1]!;
      if (!spec.startsWith(".")) continue;
      const to = folderOf(join(file, "..", spec).replaceAll("\\", "/"));
      if (to !== from && !graph.get(from)!.has(to)) graph.get(from)!.set(to, `${file} → ${spec}`);
    }
  }
  return graph;
}

/** Tarjan's strongly connected components; any component of more than one folder is a cycle. */
function stronglyConnected(graph: Map<string, Map<string, string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      components.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return components;
}

test("the import graph between src/ folders has no cycle and every arrow points down", () => {
  const graph = folderGraph();
  const lines = [...graph.keys()]
    .sort((a, b) => (folderRanks[b] ?? -1) - (folderRanks[a] ?? -1) || a.localeCompare(b))
    .map((from) =>
      `${from} (${folderRanks[from]}) → ${
        [...graph.get(from)!.keys()].sort().join(", ") || "nothing"
      }`
    );
  console.log(`src/ folder import graph (rank: 0 bottom):\n  ${lines.join("\n  ")}`);
  const cycles = stronglyConnected(graph).filter((component) => component.length > 1);
  assert.deepEqual(cycles, [], "folders that import each other (directly or around a loop)");
  const unranked = [...graph.keys()].filter((folder) => folderRanks[folder] === undefined);
  assert.deepEqual(unranked, [], "every src/ folder has a rank in folderRanks");
  const upward: string[] = [];
  for (const [from, targets] of graph) {
    for (const [to, example] of targets) {
      if (!(folderRanks[to]! < folderRanks[from]!)) upward.push(`${from} → ${to} (${example})`);
    }
  }
  assert.deepEqual(upward, [], "imports that do not point to a lower layer");
});

test("the cycle check finds a cycle", () => {
  const graph = new Map([
    ["a", new Map([["b", "a → b"]])],
    ["b", new Map([["c", "b → c"]])],
    ["c", new Map([["a", "c → a"]])],
    ["d", new Map([["a", "d → a"]])],
  ]);
  assert.deepEqual(stronglyConnected(graph).filter((c) => c.length > 1), [["a", "b", "c"]]);
});

test("adapters/ import nothing from each other except through src/", () => {
  const offences: string[] = [];
  for (const file of tsFiles("adapters")) {
    const runtime = file.split("/")[1];
    const text = readFileSync(join(root, file), "utf8");
    for (const match of text.matchAll(importPattern)) {
      const spec = match[1]!;
      const other = /adapters\/([^/]+)\//.exec(spec)?.[1] ?? /^\.\.\/([^/.]+)\//.exec(spec)?.[1];
      if (other && other !== runtime && other !== "src" && other !== "..") {
        offences.push(`${file} imports ${spec}`);
      }
    }
  }
  assert.deepEqual(offences, []);
});

test("package.json and deno.json export the same entry points", () => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const deno = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
  const denoExports = deno.exports as Record<string, string>;
  const pkgExports = pkg.exports as Record<string, { types: string; import: string }>;
  assert.deepEqual(Object.keys(pkgExports).sort(), Object.keys(denoExports).sort());
  // Every adapter a user imports is an entry point (a Worker needs `./wintertc` to use
  // `winterTcConnect` without bundling Ferry's sources).
  for (const entry of [".", "./node", "./deno", "./websocket", "./wintertc"]) {
    assert.ok(entry in denoExports, `deno.json exports ${entry}`);
  }
  for (const [key, source] of Object.entries(denoExports)) {
    const built = source.replace(/^\.\//, "./dist/").replace(/\.ts$/, ".js");
    assert.equal(pkgExports[key]!.import, built, `package.json exports["${key}"].import`);
    assert.equal(
      pkgExports[key]!.types,
      built.replace(/\.js$/, ".d.ts"),
      `package.json exports["${key}"].types`,
    );
    assert.ok(statSync(join(root, source)).isFile(), `${source} exists`);
  }
});
