/**
 * `ferry serve --metrics <port>`: Ferry's OpenTelemetry metrics in Prometheus' text format at
 * `http://HOST:PORT/metrics`, through OpenTelemetry's own Prometheus exporter.
 *
 * Registers an SDK `MeterProvider` globally, so it must run before the server, pool and gateway are
 * created (connections opened before it are counted by the gauges but not timed per request). The
 * SDK and the exporter (dependencies of the package) are loaded only when `--metrics` is given, so
 * no other command pays for them. The endpoint binds the same host as the rest of `ferry serve` (loopback
 * by default) and answers only `GET /metrics`.
 *
 * @module
 */

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { metrics } from "@opentelemetry/api";
import { describeError } from "../src/errors.ts";

export interface RunningMetricsEndpoint {
  /** `http://host:port/metrics`, with the port really bound. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the endpoint on `host:port` (0 picks a free port). */
export async function startMetricsEndpoint(
  host: string,
  port: number,
): Promise<RunningMetricsEndpoint> {
  let sdk: typeof import("@opentelemetry/sdk-metrics");
  let prometheus: typeof import("@opentelemetry/exporter-prometheus");
  try {
    sdk = await import("@opentelemetry/sdk-metrics");
    prometheus = await import("@opentelemetry/exporter-prometheus");
  } catch (error) {
    throw new Error(
      `--metrics needs @opentelemetry/sdk-metrics and @opentelemetry/exporter-prometheus ` +
        `(npm install them next to Ferry): ${describeError(error)}`,
    );
  }
  const exporter = new prometheus.PrometheusExporter({ preventServerStart: true });
  const provider = new sdk.MeterProvider({ readers: [exporter] });
  metrics.setGlobalMeterProvider(provider);
  const server: Server = createServer((request, response) => {
    if (request.method === "GET" && request.url?.split("?")[0] === "/metrics") {
      exporter.getMetricsRequestHandler(request, response);
      return;
    }
    response.statusCode = 404;
    response.end("Not found: metrics are at /metrics\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const shown = bound.address.includes(":") ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shown}:${bound.port}/metrics`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      metrics.disable();
      await provider.shutdown();
    },
  };
}
