/**
 * One trace across three runtimes: Chromium calls a typed service through the gateway (Node, this
 * process) on a server in a Deno process; each runtime records spans with OpenTelemetry's SDK in
 * memory. The page's CLIENT span is the parent of the gateway's hop span, which is the parent of
 * the Deno server's SERVER span — one trace id throughout, carried by the request envelope's
 * `traceparent` (which the gateway rewrites to its own span, same length).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { trace } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { startNodeGateway } from "../../adapters/node/gateway.ts";
import { type OpenBrowserFixture, openBrowserFixture } from "../helpers/browser-fixture.ts";
import { root } from "../helpers/ferry-cli.ts";
import { type SpanRecord, spanRecord } from "../helpers/traced-greeter.ts";

const SERVER = 1;
const CLIENT = 2;

let fixture: OpenBrowserFixture | undefined;
let deno: ChildProcess | undefined;
let lines: AsyncIterator<string> | undefined;
let denoErr = "";

async function nextLine(prefix: string): Promise<string> {
  const deadline = setTimeout(() => deno?.kill("SIGKILL"), 60_000);
  try {
    for (;;) {
      const next = await lines!.next();
      if (next.done) throw new Error(`the Deno server ended before "${prefix}": ${denoErr}`);
      if (next.value.startsWith(prefix)) return next.value.slice(prefix.length);
    }
  } finally {
    clearTimeout(deadline);
  }
}

before(async () => {
  fixture = await openBrowserFixture({ modules: ["test/browser/pages/tracing-page.ts"] });
  deno = spawn(join(root, "node_modules/.bin/deno"), [
    "run",
    "-A",
    join(root, "test/helpers/traced-server-process.ts"),
  ], { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
  deno.stderr!.setEncoding("utf8").on("data", (text: string) => {
    denoErr = (denoErr + text).slice(-4000);
  });
  lines = createInterface({ input: deno.stdout! })[Symbol.asyncIterator]();
});

after(async () => {
  if (deno !== undefined && deno.exitCode === null) {
    const exited = new Promise((resolve) => deno!.once("exit", resolve));
    deno.kill("SIGKILL");
    await exited;
  }
  await fixture?.close();
});

test("Chromium → gateway (Node) → server (Deno): one trace, parents in order", {
  timeout: 180_000,
}, async () => {
  const port = Number(await nextLine("LISTENING "));
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  assert.ok(trace.setGlobalTracerProvider(provider));
  let page: { result: string; spans: SpanRecord[] };
  try {
    const running = await startNodeGateway({
      targets: { traced: { host: "127.0.0.1", port } },
      allowedOrigins: [new URL(fixture!.baseUrl).origin],
    });
    try {
      page = await fixture!.call(
        "tracing-page.js",
        "tracedHello",
        `ws://127.0.0.1:${running.address.port}/gateway/traced`,
        "Chromium",
      );
    } finally {
      await running.close();
    }
  } finally {
    trace.disable();
  }
  await provider.forceFlush();
  const gatewaySpans = exporter.getFinishedSpans().map(spanRecord);
  await provider.shutdown();
  deno!.stdin!.write("spans\n");
  const serverSpans = JSON.parse(await nextLine("SPANS ")) as SpanRecord[];
  const all = `page ${JSON.stringify(page.spans)}\ngateway ${JSON.stringify(gatewaySpans)}\n` +
    `server ${JSON.stringify(serverSpans)}\n${fixture!.log.join("\n")}`;
  assert.equal(page.result, "hello Chromium from Deno");

  const browser = page.spans.find((s) => s.name === "test.greeter/hello" && s.kind === CLIENT);
  const hop = gatewaySpans.find((s) => s.name === "ferry.gateway" && s.kind === SERVER);
  const server = serverSpans.find((s) => s.name === "test.greeter/hello" && s.kind === SERVER);
  assert.ok(browser && hop && server, all);
  assert.equal(hop.traceId, browser.traceId, all);
  assert.equal(hop.parentSpanId, browser.spanId, all);
  assert.equal(server.traceId, browser.traceId, all);
  assert.equal(server.parentSpanId, hop.spanId, all);
  console.log(
    `trace ${browser.traceId}: page ${browser.spanId} → gateway ${hop.spanId} → Deno ${server.spanId}`,
  );
});
