/**
 * Tracing through `@opentelemetry/api` with the SDK's in-memory exporter: a typed-service call
 * makes a CLIENT span whose context travels in the request envelope, and the router's SERVER span
 * is its child (same trace, parent = the client span); a failure marks both as errors; the raw
 * request spans of tapped connections exist for both sides. Without a trace the envelope is the
 * three-element array it always was, and a malformed `traceparent` is ignored.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { StackContextManager } from "@opentelemetry/sdk-trace";
import { TransportClient } from "../../src/client/transport-client.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import {
  decodeServiceRequest,
  defineService,
  encodeServiceRequest,
  method,
  serviceClient,
  ServiceError,
  ServiceRouter,
} from "../../src/rpc/mod.ts";
import { encodePayload } from "../../src/rpc/rpc-codec.ts";
import { traceparentOf, withTraceparent } from "../../src/rpc/rpc-envelope.ts";
import { parseTraceparent } from "../../src/observability/tracing.ts";
import {
  enableFerryTraceContext,
  ferryTraceContextResponder,
} from "../../src/extensions/ferry-trace-context.ts";
import {
  decodeChunkTraceContext,
  encodeChunkTraceContext,
  isChunkTraceContext,
} from "../../src/observability/chunk-trace-message.ts";
import { OneForOneStreamManager } from "../../src/responder/one-for-one-stream-manager.ts";
import { memoryNetwork } from "../helpers/memory-socket.ts";

const greeter = defineService("test.greeter", {
  hello: method<{ name: string }, string>(),
  refuse: method<void, never>(),
});

test("without a trace the request envelope is unchanged; a bad traceparent is ignored", () => {
  const plain = encodeServiceRequest("s", "m", { a: 1 });
  const expected = new Uint8Array([
    0xf6,
    0x66,
    0x72,
    0x70,
    0x63,
    0x01,
    ...encodePayload(["s", "m", { a: 1 }], "x"),
  ]);
  assert.deepEqual(plain, expected);
  assert.deepEqual(decodeServiceRequest(plain), { service: "s", method: "m", params: { a: 1 } });
  const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  assert.equal(decodeServiceRequest(encodeServiceRequest("s", "m", 1, tp)).traceparent, tp);
  for (
    const bad of ["", "00-zz", `ff-${tp.slice(3)}`, `00-${"0".repeat(32)}-b7ad6b7169203331-01`]
  ) {
    assert.equal(parseTraceparent(bad), undefined, bad);
  }
  assert.equal(parseTraceparent(tp)?.spanId, "b7ad6b7169203331");
  // A fourth element that is not a trace object is ignored, not a failure.
  const odd = new Uint8Array([
    0xf6,
    0x66,
    0x72,
    0x70,
    0x63,
    0x01,
    ...encodePayload(["s", "m", 1, 42], "x"),
  ]);
  assert.deepEqual(decodeServiceRequest(odd), { service: "s", method: "m", params: 1 });
});

test("a proxy reads and replaces the traceparent without decoding, same length", () => {
  const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const other = "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01";
  const body = encodeServiceRequest("svc", "m", { big: new Uint8Array(300) }, tp);
  assert.equal(traceparentOf(body), tp);
  const replaced = withTraceparent(body, other);
  assert.equal(replaced.byteLength, body.byteLength);
  assert.equal(traceparentOf(body), tp, "the original is not modified");
  assert.equal(decodeServiceRequest(replaced).traceparent, other);
  assert.equal(traceparentOf(encodeServiceRequest("svc", "m", { tp })), undefined);
  // Params that end like a trace element are the caller's data, not a trace.
  assert.equal(traceparentOf(encodeServiceRequest("svc", "m", { traceparent: tp })), undefined);
  assert.throws(() => withTraceparent(encodeServiceRequest("svc", "m", 1), other));
});

test("a typed call's server span is the child of its client span, across the envelope", async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const contextManager = new StackContextManager().enable();
  assert.ok(context.setGlobalContextManager(contextManager));
  assert.ok(trace.setGlobalTracerProvider(provider));
  try {
    const network = memoryNetwork({ label: "tracing" });
    const router = new ServiceRouter().serve(greeter, {
      hello: ({ name }) => `hello ${name}`,
      refuse: () => {
        throw new ServiceError("NOPE", "refused on purpose");
      },
    });
    const server = new TransportServer({ rpcHandler: router });
    await server.listen(network.listen);
    const transport = await TransportClient.connect(network.connect);
    const client = serviceClient(greeter, transport);
    assert.equal(await client.hello({ name: "trace" }), "hello trace");
    await assert.rejects(client.refuse());
    await transport.close();
    await server.close();

    const spans = exporter.getFinishedSpans();
    const named = (name: string, kind: SpanKind) =>
      spans.filter((span) => span.name === name && span.kind === kind);
    const [clientHello] = named("test.greeter/hello", SpanKind.CLIENT);
    const [serverHello] = named("test.greeter/hello", SpanKind.SERVER);
    assert.ok(clientHello && serverHello, spans.map((s) => `${s.name}/${s.kind}`).join(", "));
    assert.equal(serverHello.spanContext().traceId, clientHello.spanContext().traceId);
    assert.equal(serverHello.parentSpanContext?.spanId, clientHello.spanContext().spanId);
    assert.equal(serverHello.status.code, SpanStatusCode.UNSET);

    const [clientRefuse] = named("test.greeter/refuse", SpanKind.CLIENT);
    const [serverRefuse] = named("test.greeter/refuse", SpanKind.SERVER);
    assert.equal(clientRefuse?.status.code, SpanStatusCode.ERROR);
    assert.equal(serverRefuse?.status.code, SpanStatusCode.ERROR);
    assert.equal(serverRefuse?.parentSpanContext?.spanId, clientRefuse?.spanContext().spanId);

    // The raw RPC under the typed call: a client span inside the service span, and a server one.
    const rawClient = named("ferry/RpcRequest", SpanKind.CLIENT);
    assert.equal(rawClient.length, 2);
    assert.equal(rawClient[0]!.parentSpanContext?.spanId, clientHello.spanContext().spanId);
    assert.equal(named("ferry/RpcRequest", SpanKind.SERVER).length, 2);
  } finally {
    trace.disable();
    context.disable();
    await provider.shutdown();
  }
});

test("Ferry's chunk trace context makes a fetch's server span the client span's child", async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  assert.ok(trace.setGlobalTracerProvider(provider));
  try {
    const network = memoryNetwork({ label: "chunk-trace" });
    const streams = new OneForOneStreamManager();
    let oneWays = 0;
    const server = new TransportServer({
      rpcHandler: {
        receive: (_client, body) => body,
        receiveOneWay: () => {
          oneWays++;
        },
      },
      streamManager: streams,
      // The server side of the extension: consumes the trace context once the tap has read it.
      interceptor: ferryTraceContextResponder,
    });
    await server.listen(network.listen);
    const correlated = await TransportClient.connect(network.connect);
    assert.equal(enableFerryTraceContext(correlated), true);
    const plain = await TransportClient.connect(network.connect);
    const [first, second] = [...server.connections];
    const source = { chunkCount: 4, getChunk: (index: number) => new Uint8Array(64 + index) };
    const correlatedStream = streams.registerStream(first!, source);
    const plainStream = streams.registerStream(second!, source);
    assert.equal((await correlated.fetchChunk(correlatedStream, 2)).byteLength, 66);
    assert.equal((await plain.fetchChunk(plainStream, 1)).byteLength, 65);
    await correlated.close();
    await plain.close();
    await server.close();
    assert.equal(oneWays, 0, "the trace context never reaches the application");
    // The plain client sent its fetch and nothing else.
    assert.equal(second!.stats().messagesReceived, 1);

    const spans = exporter.getFinishedSpans();
    const fetches = (kind: SpanKind) =>
      spans.filter((span) => span.name === "ferry/ChunkFetchRequest" && span.kind === kind);
    const clients = fetches(SpanKind.CLIENT);
    const servers = fetches(SpanKind.SERVER);
    assert.equal(clients.length, 2);
    assert.equal(servers.length, 2);
    const joined = servers.filter((span) =>
      clients.some((client) => span.parentSpanContext?.spanId === client.spanContext().spanId)
    );
    assert.equal(joined.length, 1, "only the correlated fetch is joined");
    const parent = clients.find((c) =>
      c.spanContext().spanId === joined[0]!.parentSpanContext?.spanId
    )!;
    assert.equal(joined[0]!.spanContext().traceId, parent.spanContext().traceId);
  } finally {
    trace.disable();
    await provider.shutdown();
  }
});

test("the chunk trace context body round-trips and is recognised by its kind only", () => {
  const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const body = encodeChunkTraceContext(2n ** 40n + 5n, 7, tp);
  assert.equal(isChunkTraceContext(body), true);
  assert.equal(isChunkTraceContext(encodeServiceRequest("s", "m", 1)), false);
  assert.deepEqual(decodeChunkTraceContext(body), {
    streamId: 2 ** 40 + 5,
    chunkIndex: 7,
    traceparent: tp,
  });
  assert.equal(decodeChunkTraceContext(body.subarray(0, 30)), undefined);
});
