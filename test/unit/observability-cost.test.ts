/**
 * What Ferry's instrumentation costs when nothing listens, counted rather than timed (so no
 * machine load can change the outcome): with no OpenTelemetry SDK registered and no channel
 * subscriber, RPCs and chunk fetches make zero calls into `@opentelemetry/api`, no message reaches
 * a `ConnectionTap` (the only code that allocates per request for observability), and no channel is
 * even asked whether it has subscribers; a connection's whole life costs the same handful of calls
 * whether it carries 1 request or 64. The same counters see the per-request work as soon as an SDK
 * or a subscriber is there, which shows they would catch a per-request call added to the no-SDK
 * path. The bench case `observability-cost` measures the same in CPU time.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { metrics, trace } from "@opentelemetry/api";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, NoopSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { ConnectionTap } from "../../src/observability/connection-tap.ts";
import {
  type FerryChannelName,
  installFerryEventSink,
} from "../../src/observability/event-sink.ts";
import { tapOf } from "../../src/observability/observe.ts";
import { memoryNetwork } from "../helpers/memory-socket.ts";
import { OtelApiSpy } from "../helpers/otel-api-spy.ts";
import { requestLifecycle } from "../helpers/request-lifecycle.ts";

class ManualReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Counts the messages that reach any connection's tap (sent, received, frame starts). */
function spyOnTaps(): { readonly count: () => number; readonly restore: () => void } {
  let calls = 0;
  const proto = ConnectionTap.prototype as unknown as Record<string, unknown>;
  const originals = new Map<string, unknown>();
  for (const name of ["sent", "received", "frameStarted"]) {
    const original = proto[name] as (...args: unknown[]) => unknown;
    originals.set(name, original);
    proto[name] = function (this: unknown, ...args: unknown[]) {
      calls++;
      return original.apply(this, args);
    };
  }
  return {
    count: () => calls,
    restore: () => {
      for (const [name, original] of originals) proto[name] = original;
    },
  };
}

/** An event sink that counts `hasSubscribers` reads and publishes; `subscribed` channels listen. */
function countingSink(subscribed: readonly FerryChannelName[] = []) {
  const counts = { reads: 0, publishes: 0 };
  installFerryEventSink({
    channel: (name) => ({
      get hasSubscribers() {
        counts.reads++;
        return subscribed.includes(name);
      },
      publish() {
        counts.publishes++;
      },
    }),
  });
  return counts;
}

interface Counted {
  /** Calls into the API / taps / channel reads / publishes while the requests ran. */
  readonly perRequests: { api: number; taps: number; reads: number; publishes: number };
  /** The same over the connection's whole life (open, requests, close). */
  readonly lifetime: { api: number; taps: number; reads: number; publishes: number };
  readonly tapped: boolean;
  readonly apiCalls: string;
}

async function counted(
  label: string,
  requests: number,
  sink: { reads: number; publishes: number },
): Promise<Counted> {
  const spy = new OtelApiSpy();
  const taps = spyOnTaps();
  const snapshot = () => ({
    api: spy.total,
    taps: taps.count(),
    reads: sink.reads,
    publishes: sink.publishes,
  });
  const minus = (a: ReturnType<typeof snapshot>, b: ReturnType<typeof snapshot>) => ({
    api: a.api - b.api,
    taps: a.taps - b.taps,
    reads: a.reads - b.reads,
    publishes: a.publishes - b.publishes,
  });
  sink.reads = 0;
  sink.publishes = 0;
  try {
    let start = snapshot();
    let end = start;
    let tapped = false;
    let before = new Map<string, number>();
    let apiCalls = "";
    await requestLifecycle(memoryNetwork({ label }), requests, {
      connected(client, serverSide) {
        tapped = tapOf(client) !== undefined || tapOf(serverSide) !== undefined;
        start = snapshot();
        before = new Map(spy.calls);
      },
      answered() {
        end = snapshot();
        apiCalls = [...spy.calls]
          .filter(([name, count]) => count !== (before.get(name) ?? 0))
          .map(([name, count]) => `${name} ×${count - (before.get(name) ?? 0)}`)
          .join(", ") || "none";
      },
    });
    // The close's own work (the `closed` promise's handlers) runs a few ticks later.
    await new Promise((resolve) => setTimeout(resolve, 0));
    return { perRequests: minus(end, start), lifetime: snapshot(), tapped, apiCalls };
  } finally {
    taps.restore();
    spy.restore();
  }
}

test("no SDK, no subscriber: requests make no call into OpenTelemetry and reach no tap", async () => {
  metrics.disable();
  trace.disable();
  const sink = countingSink();
  try {
    // The first connection after a provider change creates Ferry's (no-op) instruments once.
    await counted("cost-none-warm", 1, sink);
    const one = await counted("cost-none-1", 1, sink);
    const many = await counted("cost-none-64", 64, sink);
    console.log(
      `no SDK: 64 RPCs + 64 chunk fetches made ${many.perRequests.api} API calls ` +
        `(${many.apiCalls}), ${many.perRequests.taps} tap calls, ${many.perRequests.reads} ` +
        `channel checks; a whole connection made ${many.lifetime.api} API calls with 64 ` +
        `requests and ${one.lifetime.api} with 1`,
    );
    assert.equal(many.tapped, false, "a connection opened with nothing listening has no tap");
    assert.equal(many.perRequests.api, 0, `API calls per request: ${many.apiCalls}`);
    assert.equal(many.perRequests.taps, 0);
    assert.equal(many.perRequests.reads, 0, "no channel is asked for subscribers per request");
    assert.equal(many.perRequests.publishes, 0);
    // Open and close cost a few calls per connection, the same however many requests it carried.
    assert.deepEqual(many.lifetime, one.lifetime);
    assert.ok(one.lifetime.api > 0, "the spy sees the per-connection calls");
  } finally {
    installFerryEventSink(undefined);
  }
});

test("with an SDK registered the same counters see work on every request", async () => {
  const reader = new ManualReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new NoopSpanProcessor()] });
  metrics.disable();
  trace.disable();
  assert.ok(metrics.setGlobalMeterProvider(meterProvider));
  assert.ok(trace.setGlobalTracerProvider(tracerProvider));
  const sink = countingSink();
  try {
    const many = await counted("cost-sdk-64", 64, sink);
    console.log(
      `with an SDK: 64 RPCs + 64 chunk fetches made ${many.perRequests.api} API calls ` +
        `(${many.apiCalls}), ${many.perRequests.taps} tap calls`,
    );
    assert.equal(many.tapped, true);
    // Each request: a CLIENT span started in the caller's context (context.active, trace.setSpan),
    // a SERVER span likewise; each message on both connections' taps.
    assert.ok(many.perRequests.api >= 2 * 128, `API calls: ${many.apiCalls}`);
    assert.ok(many.perRequests.taps >= 4 * 128, `tap calls: ${many.perRequests.taps}`);
  } finally {
    installFerryEventSink(undefined);
    metrics.disable();
    trace.disable();
    await meterProvider.shutdown();
    await tracerProvider.shutdown();
  }
});

test("a channel subscriber alone taps connections and is published to per request", async () => {
  metrics.disable();
  trace.disable();
  const sink = countingSink(["ferry:client:response"]);
  try {
    const many = await counted("cost-subscriber-64", 64, sink);
    assert.equal(many.tapped, true);
    // No SDK: still no call into OpenTelemetry per request, though the channels are busy.
    assert.equal(many.perRequests.api, 0, `API calls per request: ${many.apiCalls}`);
    assert.ok(many.perRequests.publishes >= 128, `publishes: ${many.perRequests.publishes}`);
    assert.ok(many.perRequests.taps >= 4 * 128, `tap calls: ${many.perRequests.taps}`);
  } finally {
    installFerryEventSink(undefined);
  }
});
