/**
 * The npm package as a stranger gets it: `npm pack` (which builds `dist/`: the library, the CLI
 * and the web demo; `npm publish --dry-run` on the same tree must not warn), the tarball installed
 * into an empty project, then, from that project only:
 * the README's at-a-glance example (plain JavaScript, as written, importing "ferry-transport"),
 * `require()` of the package, `ferry --help` (timed: the figure is printed), `npx ferry serve`
 * with its web page, and `npx ferry get` from it.
 *
 * Offline: the package's dependencies (@opentelemetry/api, msgpackr, ws) are packed from this checkout's
 * node_modules and installed beside it with `npm install --offline`, so no registry is asked.
 * The project must end up without tsx, esbuild or TypeScript: nothing may need them at run time.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { promisify } from "node:util";
import { root } from "../helpers/ferry-cli.ts";

const run = promisify(execFile);
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const npx = process.platform === "win32" ? "npx.cmd" : "npx";
const work = mkdtempSync(join(tmpdir(), "ferry-package-"));
const project = join(work, "project");
/** npm without the network and without this checkout's settings. */
const npmEnv = { ...process.env, npm_config_offline: "true", npm_config_update_notifier: "false" };
let tarballFiles: string[] = [];

async function packInto(directory: string, what: string[], scripts: boolean): Promise<string[]> {
  const { stdout } = await run(
    npm,
    [
      "pack",
      "--json",
      "--pack-destination",
      directory,
      ...(scripts ? [] : ["--ignore-scripts"]),
      ...what,
    ],
    { cwd: root, env: npmEnv, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 },
  );
  // With scripts, the build's own output precedes the JSON report.
  const report = JSON.parse(stdout.slice(stdout.indexOf("\n[") + 1 || stdout.indexOf("[")));
  return (report as { filename: string; files: { path: string }[] }[]).map((entry) => {
    if (what.length === 0) tarballFiles = entry.files.map((file) => file.path);
    return join(directory, entry.filename);
  });
}

before(async () => {
  mkdirSync(project);
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "stranger", private: true, type: "module" }),
  );
  const [ferry] = await packInto(work, [], true);
  const dependencies = await packInto(
    work,
    ["./node_modules/@opentelemetry/api", "./node_modules/msgpackr", "./node_modules/ws"],
    false,
  );
  await run(npm, ["install", "--offline", "--no-audit", "--no-fund", ferry!, ...dependencies], {
    cwd: project,
    env: npmEnv,
    timeout: 120_000,
  });
});

after(() => rmSync(work, { recursive: true, force: true }));

test("the tarball holds compiled JavaScript, the prebuilt page and no TypeScript sources", () => {
  const sources = tarballFiles.filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"));
  assert.deepEqual(sources, []);
  for (
    const file of [
      "dist/src/mod.js",
      "dist/src/pool/mod.js",
      "dist/src/files/mod.js",
      "dist/cli/ferry.js",
      "dist/cli/ferry-bundle.js",
      "dist/web/index.html",
      "dist/web/ferry.js",
    ]
  ) {
    assert.ok(tarballFiles.includes(file), `${file} is packed`);
  }
  const installed = join(project, "node_modules");
  for (const tool of ["tsx", "esbuild", "typescript"]) {
    assert.ok(!existsSync(join(installed, tool)), `${tool} was not installed`);
  }
  // The bundled CLI the bin runs imports builtins, its own chunks and runtime dependencies (it
  // carries @opentelemetry/api and msgpackr itself, scripts/build-cli.ts); the web demo's
  // checkout-only builder stays an import of a file the package does not have.
  const bundles = tarballFiles.filter((file) => /^dist\/cli\/ferry-bundle.*\.js$/.test(file));
  const imported = new Set<string>();
  const specifiers =
    /^(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"|^import\s*"([^"]+)"|\b(?:import|__require)\("([^"]+)"\)/gm;
  for (const file of bundles) {
    const text = readFileSync(join(installed, "ferry-transport", file), "utf8");
    for (const match of text.matchAll(specifiers)) {
      const name = match[1] ?? match[2] ?? match[3]!;
      if (!isBuiltin(name) && !name.startsWith("./")) imported.add(name);
    }
  }
  const allowed = [
    "ws",
    // Optional: loaded by `serve --metrics` only (docs/observability.md), and msgpackr's native
    // extractor where it is installed.
    ...["@opentelemetry/sdk-metrics", "@opentelemetry/exporter-prometheus", "msgpackr-extract"],
    "../web-demo/build-web-demo.js",
  ];
  assert.ok(imported.has("ws"), "the bundle's imports were read");
  assert.deepEqual([...imported].filter((name) => !allowed.includes(name)), []);
});

test("npm publish --dry-run has nothing to warn about but the missing login", async () => {
  // dist/ is the one `npm pack` just built; scripts skipped so it is not rebuilt.
  const { stdout, stderr } = await run(npm, ["publish", "--dry-run", "--ignore-scripts"], {
    cwd: root,
    env: npmEnv,
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const warnings = (stdout + stderr).split("\n")
    .filter((line) => /^npm (warn|WARN|error|ERR)/.test(line))
    .filter((line) => !/requires you to be logged in/.test(line));
  assert.deepEqual(warnings, []);
  assert.match(stdout + stderr, /\+ ferry-transport@/);
});

test("the README's at-a-glance example runs against the installed package", async () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const from = readme.indexOf("## At a glance");
  const source = /```ts\n([\s\S]*?)```/.exec(readme.slice(from))?.[1];
  assert.ok(from >= 0 && source !== undefined, "README has the at-a-glance example");
  writeFileSync(join(project, "glance.mjs"), source);
  const { stdout } = await run(process.execPath, ["glance.mjs"], { cwd: project, timeout: 60_000 });
  assert.equal(stdout.trim(), "hello 1024");
});

test("require() loads the ESM package through Node's require(esm)", async (t) => {
  const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
  if (major < 20 || (major === 20 && minor < 19) || (major === 22 && minor < 12)) {
    t.skip(`Node ${process.versions.node} has no require(esm)`);
    return;
  }
  const { stdout } = await run(process.execPath, [
    "-e",
    `const f = require("ferry-transport"); const n = require("ferry-transport/node");` +
    `const p = require("ferry-transport/pool"); const r = require("ferry-transport/rpc");` +
    `console.log(typeof f.TransportClient, typeof n.tcpConnect, typeof p.ConnectionPool,` +
    ` typeof r.serviceClient)`,
  ], { cwd: project, timeout: 30_000 });
  assert.equal(stdout.trim(), "function function function function");
});

test("ferry --help from the installed package (timed)", async () => {
  const bin = join(project, "node_modules", ".bin", "ferry");
  const times: number[] = [];
  let out = "";
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    out = (await run(process.execPath, [bin, "--help"], { cwd: project, timeout: 30_000 })).stdout;
    times.push(performance.now() - started);
  }
  const started = performance.now();
  await run(npx, ["ferry", "--help"], { cwd: project, env: npmEnv, timeout: 30_000 });
  const viaNpx = performance.now() - started;
  times.sort((a, b) => a - b);
  console.log(
    `ferry --help from the installed package: node bin median ${times[2]!.toFixed(0)} ms ` +
      `(min ${times[0]!.toFixed(0)}), through npx ${viaNpx.toFixed(0)} ms`,
  );
  assert.match(out, /^Usage: ferry <command>/);
});

test("npx ferry serve serves the prebuilt page and npx ferry get downloads from it", async () => {
  const serve = spawn(npx, [
    "ferry",
    "serve",
    "--port",
    "0",
    "--ws-port",
    "0",
    "--http-port",
    "0",
    "--demo-size",
    "1M",
  ], {
    cwd: project,
    env: { ...npmEnv, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    // npx runs the bin under npm and a shell; a group of its own lets one signal stop all three.
    detached: true,
  });
  let out = "";
  let err = "";
  serve.stdout.setEncoding("utf8").on("data", (text: string) => (out += text));
  serve.stderr.setEncoding("utf8").on("data", (text: string) => (err += text));
  const exited = new Promise((resolve) => serve.on("close", resolve));
  try {
    const url = (label: string) => new RegExp(`^${label}\\s+(\\S+)$`, "m").exec(out)?.[1];
    const deadline = Date.now() + 60_000;
    while (url("Web demo") === undefined) {
      assert.ok(serve.exitCode === null && Date.now() < deadline, `serve did not start: ${err}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const page = await fetch(url("Web demo")!);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/);
    const bundle = await fetch(new URL("ferry.js", url("Web demo")!));
    assert.equal(bundle.status, 200);
    assert.ok((await bundle.arrayBuffer()).byteLength > 10_000);
    assert.ok(!existsSync(join(project, ".ferry-demo", "web")), "the page was not built");
    assert.doesNotMatch(err, /no web demo/);

    const { stdout } = await run(npx, ["ferry", "get", `${url("TCP")}medium.bin`], {
      cwd: project,
      env: npmEnv,
      timeout: 60_000,
    });
    const sha = createHash("sha256").update(readFileSync(join(project, "medium.bin")))
      .digest("hex");
    assert.equal(stdout.trim(), `${sha}  ${join(project, "medium.bin")}  verified`);
  } finally {
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-serve.pid!, signal);
      } catch {
        // The group is gone already.
      }
    };
    signalGroup("SIGINT");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stopped = await Promise.race([
      exited.then(() => true),
      new Promise((resolve) => timer = setTimeout(() => resolve(false), 30_000)),
    ]);
    clearTimeout(timer);
    if (!stopped) signalGroup("SIGKILL");
    await exited;
  }
});
