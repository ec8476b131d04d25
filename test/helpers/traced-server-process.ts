/**
 * A typed-service server with OpenTelemetry's SDK recording spans in memory, as a program for the
 * three-runtime trace test (run under Deno: `deno run -A traced-server-process.ts`). Prints
 * `LISTENING <port>` once bound on 127.0.0.1; on the stdin line `spans` it prints
 * `SPANS <json>` (every finished span, as `SpanRecord`s), closes and exits.
 *
 * @module
 */

import process from "node:process";
import { createInterface } from "node:readline";
import { trace } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { tcpListen } from "../../adapters/deno/mod.ts";
import { ServiceRouter } from "../../src/rpc/service-router.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { spanRecord, tracedGreeter } from "./traced-greeter.ts";

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
trace.setGlobalTracerProvider(provider);

const router = new ServiceRouter().serve(tracedGreeter, {
  hello: ({ name }) => `hello ${name} from Deno`,
});
const server = new TransportServer({ rpcHandler: router });
const listener = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
process.stdout.write(`LISTENING ${listener.address.port}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== "spans") continue;
  await server.close();
  await provider.forceFlush();
  const spans = exporter.getFinishedSpans().map(spanRecord);
  process.stdout.write(`SPANS ${JSON.stringify(spans)}\n`);
  await provider.shutdown();
  process.exit(0);
}
