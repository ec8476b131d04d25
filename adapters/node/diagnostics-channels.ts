/**
 * Connects Ferry's event channels (`src/observability/event-sink.ts`) to Node's
 * `diagnostics_channel`, so APM agents subscribe to `ferry:client:request`, `ferry:server:request`
 * and the rest as they do to undici's channels, without an OpenTelemetry SDK. Importing the Node
 * adapter (`adapters/node/mod.ts`) installs it; an unsubscribed channel costs one property read.
 *
 * @module
 */

import diagnosticsChannel from "node:diagnostics_channel";
import { installFerryEventSink } from "../../src/observability/event-sink.ts";

/** Publishes Ferry's events on `diagnostics_channel` channels of the same names. Idempotent. */
export function installDiagnosticsChannels(): void {
  installFerryEventSink({ channel: (name) => diagnosticsChannel.channel(name) });
}
