/**
 * The URLs `ferry get` accepts, and how each one is reached:
 *
 * - `tcp://host:port/<file>` and `tls://host:port/<file>`: a Ferry file server;
 * - `ws://host:port[/path]/<file>` and `wss://…`: a WebSocket — straight to a server
 *   (`ws://127.0.0.1:7338/big.bin`) or through a gateway (`ws://127.0.0.1:8080/gateway/files/big.bin`):
 *   the last path segment is the file, the rest is the WebSocket URL.
 *
 * @module
 */

import { UsageError } from "./args.ts";

export interface GetTarget {
  readonly scheme: "tcp" | "tls" | "ws" | "wss";
  readonly host: string;
  readonly port: number;
  /** For ws/wss: the WebSocket URL (without the file name). */
  readonly webSocketUrl: string | undefined;
  /** The file's name (decoded). */
  readonly file: string;
  /** The URL as given, for messages. */
  readonly display: string;
}

const SCHEMES = ["tcp", "tls", "ws", "wss"] as const;

export function parseGetUrl(text: string): GetTarget {
  const port = /^[a-z]+:\/\/(?:\[[^\]]*\]|[^/:?#]*):(\d+)(?:[/?#]|$)/i.exec(text)?.[1];
  if (port !== undefined && Number(port) > 65_535) {
    throw new UsageError(`port ${port} in ${text} is out of range (1-65535)`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(
      `not a URL: ${JSON.stringify(text)} (expected e.g. tcp://127.0.0.1:7337/big.bin)`,
    );
  }
  const scheme = url.protocol.slice(0, -1) as GetTarget["scheme"];
  if (!SCHEMES.includes(scheme)) {
    throw new UsageError(
      `unsupported scheme ${url.protocol}// in ${text} (use tcp://, tls://, ws:// or wss://)`,
    );
  }
  if (url.hostname === "") throw new UsageError(`no host in ${text}`);
  const defaultPort = scheme === "ws" ? 80 : scheme === "wss" ? 443 : undefined;
  if (url.port === "" && defaultPort === undefined) {
    throw new UsageError(`no port in ${text} (${scheme}:// needs one, e.g. :7337)`);
  }
  const portNumber = url.port === "" ? defaultPort! : Number(url.port);
  if (portNumber === 0) throw new UsageError(`port 0 in ${text} is out of range (1-65535)`);
  if (url.search !== "" || url.hash !== "") {
    throw new UsageError(`${text}: query strings and fragments are not used by ferry get`);
  }
  const segments = url.pathname.split("/");
  const last = segments.pop() ?? "";
  let file: string;
  try {
    file = decodeURIComponent(last);
  } catch {
    throw new UsageError(`${text}: the file name ${last} is not valid percent-encoding`);
  }
  if (file === "") {
    throw new UsageError(`no file name in ${text} (add it as the last path segment: …/big.bin)`);
  }
  // The name becomes a local file name: a plain basename, never a path (`..%2f..%2fx`, `%2fetc`).
  if (/[/\\\0]/.test(file) || file === "." || file === ".." || file.length > 255) {
    throw new UsageError(
      `${text}: the file name ${JSON.stringify(file.slice(0, 80))} is not a plain file name ` +
        `(no /, \\, NUL, "." or "..")`,
    );
  }
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const webSocketUrl = scheme === "ws" || scheme === "wss"
    ? `${scheme}://${url.host}${segments.join("/") || "/"}`
    : undefined;
  return { scheme, host, port: portNumber, webSocketUrl, file, display: text };
}
