/**
 * `FerryEventListeners`: a runtime-neutral {@linkcode FerryEventSink} with plain listener lists,
 * for runtimes without `diagnostics_channel` (browsers, Deno) or an application that wants Ferry's
 * events as callbacks. Install it, then subscribe:
 *
 *     const events = new FerryEventListeners();
 *     installFerryEventSink(events);
 *     const stop = events.subscribe("ferry:client:response", (request) => { ... });
 *
 * Connections are tapped only if some channel has a subscriber when they open, so subscribe before
 * opening the connections to watch. Listeners run synchronously on Ferry's path (keep them short);
 * one that throws is skipped, the others still run, and the transport never sees it.
 *
 * @module
 */

import type {
  ConnectionEvent,
  FerryChannelName,
  FerryEventChannel,
  FerryEventSink,
  RequestEvent,
} from "./event-sink.ts";

/** What each channel publishes (see docs/observability.md). */
export interface FerryChannelMessages {
  "ferry:connection:open": ConnectionEvent;
  "ferry:connection:close": ConnectionEvent;
  "ferry:connection:refused": { readonly remoteAddress: string; readonly error: unknown };
  "ferry:client:request": RequestEvent;
  "ferry:client:response": RequestEvent;
  "ferry:server:request": RequestEvent;
  "ferry:server:response": RequestEvent;
  "ferry:pool:lease": { readonly route: string; readonly waitMs: number; readonly error?: unknown };
  "ferry:gateway:session": { readonly type: string; readonly target?: string };
  "ferry:heartbeat": {
    readonly remoteAddress: string;
    readonly rttMs?: number;
    readonly error?: unknown;
  };
}

class ListenerChannel implements FerryEventChannel {
  listeners: readonly ((message: unknown) => void)[] = [];

  get hasSubscribers(): boolean {
    return this.listeners.length > 0;
  }

  publish(message: unknown): void {
    // A copy-on-write list: a listener that unsubscribes while it runs does not skip another.
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch {
        // One failing listener does not keep the message from the others.
      }
    }
  }
}

/**
 * A runtime-neutral event sink with plain listeners, for places without `diagnostics_channel`
 * (browsers, Deno, Workers). Install it before the connections to watch open.
 *
 * @example
 * ```ts
 * import { FerryEventListeners, installFerryEventSink } from "ferry-transport/observability";
 *
 * const events = new FerryEventListeners();
 * installFerryEventSink(events);
 * const stop = events.subscribe("ferry:client:response", (request) => {
 *   console.log(request.type, request.durationMs);
 * });
 * stop();
 * ```
 */
export class FerryEventListeners implements FerryEventSink {
  readonly #channels = new Map<FerryChannelName, ListenerChannel>();

  channel(name: FerryChannelName): FerryEventChannel {
    let channel = this.#channels.get(name);
    if (channel === undefined) this.#channels.set(name, channel = new ListenerChannel());
    return channel;
  }

  /** Calls `listener` with every message published on `name`; returns its unsubscribe. */
  subscribe<Name extends FerryChannelName>(
    name: Name,
    listener: (message: FerryChannelMessages[Name]) => void,
  ): () => void {
    const channel = this.channel(name) as ListenerChannel;
    const entry = listener as (message: unknown) => void;
    channel.listeners = [...channel.listeners, entry];
    return () => {
      channel.listeners = channel.listeners.filter((candidate) => candidate !== entry);
    };
  }
}
