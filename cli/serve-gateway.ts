/**
 * The gateway of `ferry serve`, on the HTTP port that also serves the web demo. Its Origin
 * allowlist is the page's own origins, and those contain the port: with `--http-port 0` the port
 * is only known once the listener is bound. So the listener is bound first and the `Gateway` is
 * created from the address it got; until then every upgrade is refused (403), so no session is
 * ever accepted under a provisional allowlist. (`startNodeGateway` / `startDenoGateway` create
 * the `Gateway` before they bind, which is why the CLI runs its own.)
 *
 * @module
 */

import { Gateway, type GatewayStats } from "../src/gateway/gateway.ts";
import { defaultGatewayOptions, type GatewayOptions } from "../src/gateway/gateway-options.ts";
import type { SocketListener } from "../src/socket.ts";
import type { CliRuntime } from "./runtime.ts";

/** Everything `GatewayOptions` has, but origins derived from where the listener is bound. */
export interface ServeGatewayOptions extends Omit<GatewayOptions, "connect" | "allowedOrigins"> {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The allowlist, computed from the bound address (its real port). */
  readonly allowedOrigins: (address: SocketListener["address"]) => readonly string[];
  /** Plain HTTP requests on the same port (the web demo). */
  readonly onRequest: (request: Request) => Response | Promise<Response>;
}

/** A gateway listening with its web page. */
export interface RunningServeGateway {
  readonly address: SocketListener["address"];
  /** The exact Origin allowlist in force. */
  readonly allowedOrigins: readonly string[];
  stats(): GatewayStats;
  /** Ends every session with 1001, closes backend connections, stops listening. Idempotent. */
  close(): Promise<void>;
}

/** Binds the HTTP/WebSocket listener, then creates the gateway with the page's real origins. */
export async function startServeGateway(
  runtime: CliRuntime,
  options: ServeGatewayOptions,
): Promise<RunningServeGateway> {
  const { host, port, allowedOrigins: originsOf, onRequest, ...gatewayOptions } = options;
  let gateway: Gateway | undefined;
  const listen = runtime.gatewayListen({
    host,
    port,
    maxFrameLength: gatewayOptions.maxFrameLength ?? defaultGatewayOptions.maxFrameLength,
    maxBufferedBytes: gatewayOptions.maxBufferedBytes ?? defaultGatewayOptions.maxBufferedBytes,
    allowUpgrade: (request) => gateway?.allowUpgrade(request) ?? false,
    onRequest,
  });
  const listener = await listen((socket, context) => {
    if (gateway === undefined || context?.upgrade === undefined) {
      socket.close(new Error("ferry serve: the gateway is not ready for this socket"));
    } else {
      gateway.accept(socket, context.upgrade);
    }
  });
  let allowedOrigins: readonly string[];
  try {
    allowedOrigins = originsOf(listener.address);
    gateway = new Gateway({
      ...gatewayOptions,
      allowedOrigins,
      connect: (address) => runtime.tcpConnect(address.host, address.port),
    });
  } catch (error) {
    await listener.close();
    throw error;
  }
  const running = gateway;
  let closing: Promise<void> | undefined;
  return {
    address: listener.address,
    allowedOrigins,
    stats: () => running.stats(),
    // Sessions first, so browsers get 1001 (closing Deno.serve would end them unannounced).
    close: () =>
      closing ??= (async () => {
        try {
          await running.close();
        } finally {
          await listener.close();
        }
      })(),
  };
}

/**
 * The origins of a page served on `port` with `--host configuredHost`: `http://127.0.0.1:<port>`,
 * `http://localhost:<port>` and the configured host's own (`[::1]` for an IPv6 wildcard or
 * loopback; nothing more for `0.0.0.0`, which is no address a page can have). Never `"*"`.
 */
export function pageOrigins(configuredHost: string, port: number): string[] {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new RangeError(`pageOrigins: expected the bound port (1..65535), received ${port}`);
  }
  const hosts = new Set(["127.0.0.1", "localhost"]);
  const host = configuredHost.replace(/^\[(.*)\]$/, "$1");
  if (host === "::" || host === "::1") hosts.add("[::1]");
  else if (host !== "0.0.0.0" && host !== "") hosts.add(hostInUrl(host));
  return [...hosts].map((name) => `http://${name}:${port}`);
}

/** `host` as it appears in a URL (IPv6 literals in brackets). */
export function hostInUrl(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
