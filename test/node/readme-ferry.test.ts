/**
 * The README's quick start, `ferry` help, Deno script, browser snippet, pool example, and the
 * gateway (server and page), typed-service and cancel examples are things people paste: run each
 * as written, in the checkout with no build (only ports and URLs are pointed at a `ferry serve` on
 * free ports with small demo data, the browser bundle stands in for `/ferry.js`, and the page's
 * browser globals are stood in for) and check what it prints.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { type BrowserBuild, buildBrowserLibrary } from "../../scripts/build-browser.ts";
import { root, runFerry, type RunningServe, startServe } from "../helpers/ferry-cli.ts";

/** The README, or a page of docs/ that an example moved to. */
const documents = new Map<string, string>();
const read = (document: string) => {
  let text = documents.get(document);
  if (text === undefined) {
    documents.set(document, text = readFileSync(join(root, document), "utf8"));
  }
  return text;
};
// In the checkout, outside node_modules: tsx resolves "ferry-transport" there through
// tsconfig.json's paths, as it does for a reader running a snippet with `npx tsx`.
mkdirSync(join(root, "test-artifacts"), { recursive: true });
const work = mkdtempSync(join(root, "test-artifacts", "readme-ferry-"));
const demoDir = join(work, "demo");
let serve: RunningServe;

before(async () => {
  serve = await startServe([
    "--port",
    "0",
    "--ws-port",
    "0",
    "--http-port",
    "0",
    "--demo-size",
    "1M",
    "--demo-dir",
    demoDir,
    "--no-web",
  ]);
});

after(async () => {
  await serve?.stop();
  rmSync(work, { recursive: true, force: true });
});

function blockAfter(heading: string, language: string, document = "README.md"): string {
  const text = read(document);
  const from = text.indexOf(heading);
  assert.ok(from >= 0, `${document} has a "${heading}" section`);
  const match = new RegExp("```" + language + "\\n([\\s\\S]*?)```").exec(text.slice(from));
  assert.ok(match, `a ${language} block follows "${heading}" in ${document}`);
  return match[1]!;
}

let bundle: Promise<BrowserBuild> | undefined;
/** The bundle browsers load (msgpackr's browser build included), built once. */
const browserBundle = () => bundle ??= buildBrowserLibrary({ outdir: join(work, "browser") });

const mediumSha = () =>
  createHash("sha256").update(readFileSync(join(demoDir, "files", "medium.bin"))).digest("hex");
const run = promisify(execFile);

test("quick start: npm start is ferry serve, and the get command downloads and verifies", async () => {
  const lines = blockAfter("## Quick start", "sh").trim().split("\n")
    .map((line) => line.replace(/\s+#.*$/, ""));
  assert.deepEqual(lines.length, 2);
  assert.equal(lines[0], "npm ci && npm start");
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  assert.equal(pkg.scripts.start, "node cli/ferry-bin.mjs serve");
  assert.equal(pkg.bin.ferry, "cli/ferry-bin.mjs");
  assert.match(lines[1]!, /^npx ferry get tcp:\/\/127\.0\.0\.1:7337\/big\.bin$/);
  const args = lines[1]!.replace(/^npx ferry /, "").replace("tcp://127.0.0.1:7337/", serve.tcp)
    .split(" ");
  const result = await runFerry(args, { cwd: work });
  assert.equal(result.code, 0, result.stderr);
  const sha = createHash("sha256").update(readFileSync(join(work, "big.bin"))).digest("hex");
  assert.equal(result.stdout.trim(), `${sha}  ${join(work, "big.bin")}  verified`);
});

test("the ferry command blocks (README, docs/cli.md) are what ferry --help prints", async () => {
  const result = await runFerry(["--help"]);
  assert.equal(result.code, 0);
  assert.equal(blockAfter("## The `ferry` command", "text"), result.stdout);
  assert.equal(blockAfter("# The `ferry` command", "text", "docs/cli.md"), result.stdout);
});

test("the Deno script lists the files and downloads medium.bin, verified, as written", async () => {
  const port = new URL(serve.tcp).port;
  const source = blockAfter("## Deno script", "ts").replace("port: 7337", `port: ${port}`);
  assert.ok(!source.includes("7337") && source.includes(`from "ferry-transport/deno"`));
  // In the checkout, as the README says: deno.json's import map resolves "ferry-transport" to the
  // TypeScript sources, no build. (Not under node_modules: Deno strips types only outside it.)
  const artifacts = join(root, "test-artifacts");
  mkdirSync(artifacts, { recursive: true });
  const dir = mkdtempSync(join(artifacts, "readme-deno-"));
  writeFileSync(join(dir, "script.ts"), source);
  try {
    const { stdout } = await run(join(root, "node_modules/.bin/deno"), ["run", "-A", "script.ts"], {
      cwd: dir,
      timeout: 60_000,
    });
    const sha = mediumSha();
    assert.match(stdout, new RegExp(`^medium\\.bin 3158073 ${sha}$`, "m"));
    assert.match(stdout, new RegExp(`^verified ${sha}$`, "m"));
    assert.equal(
      createHash("sha256").update(readFileSync(join(dir, "medium.bin"))).digest("hex"),
      sha,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the browser snippet, on the browser bundle, downloads through the gateway", async () => {
  // The bundle is the one browsers load (msgpackr's browser build included); Node 20 has no
  // global WebSocket, so the `ws` package stands in for the browser's.
  const bundle = await browserBundle();
  writeFileSync(
    join(work, "websocket-global.mjs"),
    `import WebSocket from "ws";\nglobalThis.WebSocket = WebSocket;\n`,
  );
  const gateway = serve.gateway.replace(/\/$/, "");
  const source = blockAfter("## In a browser", "js")
    .replace(`"/ferry.js"`, JSON.stringify(pathToFileURL(bundle.outfile).href))
    .replace("ws://127.0.0.1:8080/gateway/files", gateway);
  assert.ok(source.includes(gateway) && !source.includes(`"/ferry.js"`));
  const file = join(work, "snippet.mjs");
  writeFileSync(file, `import "./websocket-global.mjs";\n${source}`);
  const { stdout } = await run(process.execPath, [file], { cwd: work, timeout: 60_000 });
  assert.match(stdout, /^3158073 \/ 3158073$/m);
  assert.match(stdout, new RegExp(`^3 files; 3158073 bytes, SHA-256 ${mediumSha()}$`, "m"));
});

test("the typed-service example runs and prints the bigint id, the note and the remote code", async () => {
  const source = blockAfter("# Typed services", "ts", "docs/typed-services.md");
  const file = join(work, "typed.mts");
  writeFileSync(file, source);
  const { stdout } = await run(process.execPath, ["--import", "tsx", file], {
    cwd: root,
    timeout: 60_000,
  });
  assert.equal(stdout.trim(), "9007199254740993n hi 3 E_NO_NOTE");
});

test("the gateway example serves a page that lists the files with its token and Origin", async () => {
  const tcpPort = new URL(serve.tcp).port;
  const server = blockAfter("# Gateway", "ts", "docs/gateway.md")
    .replace("port: 8443", "port: 0")
    .replace(`host: "127.0.0.1", port: 7337`, `host: "127.0.0.1", port: ${tcpPort}`);
  // (The Spark target at 10.0.0.5:7337 stays: it is never leased.)
  assert.ok(
    server.includes(`port: ${tcpPort}, peerFeatures`) && server.includes(`"ferry-transport/node"`),
  );
  const page = blockAfter("# Gateway", "js", "docs/gateway.md")
    .replace(`"/ferry.js"`, JSON.stringify(pathToFileURL((await browserBundle()).outfile).href))
    .replace(
      `"wss://gateway.example.com/gateway/files"`,
      "`ws://127.0.0.1:${running.address.port}/gateway/files`",
    );
  assert.ok(!page.includes("gateway.example.com") && !page.includes(`"/ferry.js"`));
  // A page at https://app.example.com: its WebSocket sends that Origin, its URL holds the token.
  writeFileSync(
    join(work, "page-globals.mjs"),
    `import WebSocket from "ws";
globalThis.WebSocket = class extends WebSocket {
  constructor(url, protocols) { super(url, protocols, { origin: "https://app.example.com" }); }
};
globalThis.location = new URL("https://app.example.com/#token=readme-gateway-token");
`,
  );
  const file = join(work, "gateway.mts");
  writeFileSync(
    file,
    `import "./page-globals.mjs";\n${server}\n${page}\n` +
      `const { sessions, refusals } = running.gateway.stats();\n` +
      `console.log("sessions", sessions.total, "refusals", ` +
      `Object.values(refusals).reduce((a, b) => a + b, 0));\n` +
      `await running.close();\n`,
  );
  const { stdout } = await run(process.execPath, ["--import", "tsx", file], {
    cwd: root,
    timeout: 60_000,
    env: { ...process.env, FERRY_GATEWAY_TOKEN: "readme-gateway-token" },
  });
  const lines = stdout.trim().split("\n");
  assert.match(lines[0]!, /^gateway at ws:\/\/127\.0\.0\.1:\d+\/gateway\/<target>$/);
  assert.deepEqual(lines[1]!.split(" ").sort(), ["big.bin", "hello.txt", "medium.bin"]);
  assert.equal(lines[2], "sessions 1 refusals 0");
  // Without the token the example refuses to start rather than run an open gateway.
  const open = await run(process.execPath, ["--import", "tsx", file], {
    cwd: root,
    timeout: 60_000,
    env: { ...process.env, FERRY_GATEWAY_TOKEN: "" },
  }).then(() => undefined, (error: { stderr: string }) => error.stderr);
  assert.match(open ?? "exited 0", /set FERRY_GATEWAY_TOKEN/);
});

test("the cancel example abandons four chunk fetches on a Ferry server", async () => {
  const port = new URL(serve.tcp).port;
  const source = blockAfter("# Cancelling requests", "ts", "docs/cancelling.md")
    .replace("port: 7337", `port: ${port}`);
  assert.ok(!source.includes("7337") && source.includes(`from "ferry-transport"`));
  const file = join(work, "cancel.mts");
  writeFileSync(file, source);
  const { stdout } = await run(process.execPath, ["--import", "tsx", file], {
    cwd: root,
    timeout: 60_000,
  });
  assert.equal(stdout.trim(), "rejected rejected rejected rejected");
});

test("the pool example lists the served files through a leased connection", async () => {
  const port = new URL(serve.tcp).port;
  const source = blockAfter("A pool of multiplexed connections", "ts", "docs/guide.md")
    .replace(`port: 7337 }, { timeoutMs`, `port: ${port} }, { timeoutMs`);
  assert.ok(source.includes(`port: ${port} }`) && source.includes(`from "ferry-transport"`));
  const file = join(work, "pool.mts");
  writeFileSync(file, source);
  const { stdout } = await run(process.execPath, ["--import", "tsx", file], {
    cwd: root,
    timeout: 60_000,
  });
  assert.deepEqual(stdout.trim().split(" ").sort(), ["big.bin", "hello.txt", "medium.bin"]);
});
