/**
 * Counts every call Ferry makes into `@opentelemetry/api`: the methods of the API's global
 * singletons (`metrics`, `trace`, `context`, `propagation`), of the global `ProxyTracerProvider`,
 * and of the no-op meter, instruments and tracer the API hands out while no SDK is registered (the
 * shared singletons `createNoopMeter()` and its instruments). Calls into an SDK's own objects are
 * not counted here (they exist only with an SDK). `trace.disable()` replaces the global
 * `ProxyTracerProvider`: make the spy after it.
 *
 * The methods are shadowed by own properties on those objects (the same objects Ferry's modules
 * hold, since a module graph loads the API once), so `restore()` puts everything back.
 *
 * @module
 */

import { context, createNoopMeter, metrics, propagation, trace } from "@opentelemetry/api";

export class OtelApiSpy {
  /** Calls by `object.method`. */
  readonly calls = new Map<string, number>();
  readonly #restore: (() => void)[] = [];

  constructor() {
    this.#wrapAll(metrics, "metrics");
    this.#wrapAll(trace, "trace");
    this.#wrapAll(context, "context");
    this.#wrapAll(propagation, "propagation");
    this.#wrapAll(trace.getTracerProvider(), "ProxyTracerProvider");
    const meter = createNoopMeter();
    this.#wrapAll(meter, "NoopMeter");
    // The no-op instruments are shared singletons too: one of each kind covers every instrument.
    this.#wrapAll(meter.createCounter("spy"), "NoopCounter");
    this.#wrapAll(meter.createUpDownCounter("spy"), "NoopUpDownCounter");
    this.#wrapAll(meter.createHistogram("spy"), "NoopHistogram");
    this.#wrapAll(meter.createGauge("spy"), "NoopGauge");
    this.#wrapAll(meter.createObservableCounter("spy"), "NoopObservableCounter");
    this.#wrapAll(meter.createObservableUpDownCounter("spy"), "NoopObservableUpDownCounter");
    this.#wrapAll(meter.createObservableGauge("spy"), "NoopObservableGauge");
    this.calls.clear();
  }

  /** Every call counted so far. */
  get total(): number {
    let sum = 0;
    for (const count of this.calls.values()) sum += count;
    return sum;
  }

  restore(): void {
    for (const undo of this.#restore.splice(0).reverse()) undo();
  }

  /** Shadows every function of `target` (own, then its prototype chain up to Object). */
  #wrapAll(target: object, label: string): void {
    const names = new Set<string>();
    for (
      let proto: object | null = target;
      proto !== null && proto !== Object.prototype;
      proto = Object.getPrototypeOf(proto)
    ) {
      for (const name of Object.getOwnPropertyNames(proto)) {
        if (name === "constructor") continue;
        const descriptor = Object.getOwnPropertyDescriptor(proto, name);
        if (typeof descriptor?.value === "function") names.add(name);
      }
    }
    const record = target as Record<string, unknown>;
    for (const name of names) {
      const own = Object.getOwnPropertyDescriptor(target, name);
      const original = record[name] as (...args: unknown[]) => unknown;
      const key = `${label}.${name}`;
      const calls = this.calls;
      Object.defineProperty(target, name, {
        configurable: true,
        writable: true,
        value: function (this: unknown, ...args: unknown[]) {
          calls.set(key, (calls.get(key) ?? 0) + 1);
          return original.apply(this, args);
        },
      });
      this.#restore.push(() => {
        if (own === undefined) delete record[name];
        else Object.defineProperty(target, name, own);
      });
    }
  }
}
