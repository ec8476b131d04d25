/**
 * Browser page module: a typed-service call through the gateway with OpenTelemetry's SDK recording
 * spans in the page (in memory). Returns the call's result and the page's finished spans.
 *
 * @module
 */

import { trace } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { webSocketConnect } from "../../../adapters/websocket/mod.ts";
import { TransportClient } from "../../../src/client/transport-client.ts";
import { serviceClient } from "../../../src/rpc/service-client.ts";
import { type SpanRecord, spanRecord, tracedGreeter } from "../../helpers/traced-greeter.ts";

/** Calls `hello` through the gateway session at `url` and returns the result and the spans. */
export async function tracedHello(
  url: string,
  name: string,
): Promise<{ result: string; spans: SpanRecord[] }> {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  trace.setGlobalTracerProvider(provider);
  const client = await TransportClient.connect(webSocketConnect({ url }), { timeoutMs: 20_000 });
  try {
    const result = await serviceClient(tracedGreeter, client).hello({ name }, {
      timeoutMs: 20_000,
    });
    await provider.forceFlush();
    return { result, spans: exporter.getFinishedSpans().map(spanRecord) };
  } finally {
    await client.close();
    trace.disable();
    await provider.shutdown();
  }
}
