/**
 * What the page connects to, read from its own address so the same static files work behind any
 * `ferry serve`:
 *
 * - the gateway session URL: `ws(s)://<this host>/gateway/<target>`; the target defaults to
 *   `files` and can be changed with `?target=<name>`;
 * - an optional gateway token from the fragment, `#token=<token>` (a fragment never leaves the
 *   browser: it is not sent in requests, so it does not end up in server logs);
 * - parallel connections (`?connections=`, 1–16, default 4) and chunks in flight (`?inFlight=`,
 *   1–256, default 16), the initial values of the page's settings.
 *
 * @module
 */

/** Where the gateway's sessions live on the serving host. */
export const GATEWAY_PATH_PREFIX = "/gateway/";
/** The file service's gateway target unless the page's URL says otherwise. */
export const DEFAULT_TARGET = "files";
/**
 * Parallel gateway sessions unless `?connections=` says otherwise. Swept with
 * `bench/probes/web-demo-flow-sweep.ts` (2, 4, 6, 8 sessions × 8, 16, 32, 64 in flight, 256 MiB
 * in Chromium): no pair was clearly faster than 4 × 16 (at best 1.06–1.08× in paired rounds on a
 * loaded 2-core VM, within its noise) and all cost the same CPU per GiB; 8 in flight over 6 or 8
 * sessions was slower. The bench's `web-demo` contestant reads both defaults from here.
 */
export const DEFAULT_CONNECTIONS = 4;
/** Chunks in flight over all sessions unless `?inFlight=` says otherwise. */
export const DEFAULT_IN_FLIGHT = 16;

export interface DemoConfig {
  readonly target: string;
  /** `ws:` or `wss:` URL of the gateway session for `target`. */
  readonly gatewayUrl: string;
  readonly token: string | undefined;
  readonly connections: number;
  readonly inFlight: number;
  /** Settings in the address that were not usable (and what was used instead), for the page. */
  readonly problems: readonly string[];
}

/** Reads a whole number in `[min, max]`, or `fallback` when absent or out of range. */
export function boundedInteger(
  text: string | null | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  if (text === null || text === undefined || !/^\d+$/.test(text.trim())) return fallback;
  const value = Number(text);
  return value >= min && value <= max ? value : fallback;
}

/**
 * The configuration for a page at `location`.
 * @throws TypeError when `?target=` is `.` or `..` (no URL path segment can carry those).
 */
export function readDemoConfig(location: URL): DemoConfig {
  const query = location.searchParams;
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
  const target = query.get("target") || DEFAULT_TARGET;
  if (target === "." || target === "..") {
    throw new TypeError(
      `The page's ?target= must name a gateway target, received ${JSON.stringify(target)}`,
    );
  }
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const gatewayUrl = new URL(
    `${GATEWAY_PATH_PREFIX}${encodeURIComponent(target)}`,
    `${scheme}//${location.host}`,
  ).href;
  const problems: string[] = [];
  const setting = (name: string, min: number, max: number, fallback: number) => {
    const text = query.get(name);
    const value = boundedInteger(text, min, max, fallback);
    if (
      text !== null &&
      (text.trim() === "" || String(value) !== text.trim().replace(/^0+(?=\d)/, ""))
    ) {
      problems.push(
        `?${name}=${JSON.stringify(text.slice(0, 40))} is not a whole number from ${min} to ` +
          `${max}; using ${fallback}`,
      );
    }
    return value;
  };
  return {
    target,
    gatewayUrl,
    token: fragment.get("token") || undefined,
    connections: setting("connections", 1, 16, DEFAULT_CONNECTIONS),
    inFlight: setting("inFlight", 1, 256, DEFAULT_IN_FLIGHT),
    problems,
  };
}
