/**
 * The part of the `Deno` namespace the Deno adapters use, typed locally so the project's Node
 * type-check (`tsc`, which has no Deno types) passes; `deno check` sees the same shapes.
 *
 * @module
 */

import { TransportError } from "../../src/errors.ts";

/** An address of a TCP connection or listener. */
export interface DenoNetAddr {
  readonly hostname: string;
  readonly port: number;
}

/** `Deno.Conn` (TCP or TLS): the calls the socket wrapper makes. */
export interface DenoConn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
  closeWrite(): Promise<void>;
  readonly localAddr: DenoNetAddr;
  readonly remoteAddr: DenoNetAddr;
}

/** `Deno.TcpConn`. */
export interface DenoTcpConn extends DenoConn {
  setNoDelay(noDelay?: boolean): void;
  setKeepAlive(keepAlive?: boolean): void;
}

/** `Deno.TlsConn`. */
export interface DenoTlsConn extends DenoConn {
  handshake(): Promise<{ readonly alpnProtocol: string | null }>;
}

/** `Deno.Listener`. */
export interface DenoListener<C extends DenoConn> {
  accept(): Promise<C>;
  close(): void;
  readonly addr: DenoNetAddr;
}

/** The `Deno` global, as far as the adapters use it. */
export interface DenoApi {
  connect(options: {
    hostname: string;
    port: number;
    transport: "tcp";
    signal?: AbortSignal;
  }): Promise<DenoTcpConn>;
  listen(options: {
    hostname: string;
    port: number;
    transport: "tcp";
    tcpBacklog?: number;
  }): DenoListener<DenoTcpConn>;
  startTls(
    conn: DenoTcpConn,
    options: { hostname: string; caCerts?: string[]; alpnProtocols?: string[] },
  ): Promise<DenoTlsConn>;
  listenTls(options: {
    hostname: string;
    port: number;
    transport: "tcp";
    tcpBacklog?: number;
    cert: string;
    key: string;
    alpnProtocols?: string[];
  }): DenoListener<DenoTlsConn>;
  serve(
    options: {
      hostname: string;
      port: number;
      onListen?: (addr: DenoNetAddr) => void;
    },
    handler: (request: Request, info: { remoteAddr: DenoNetAddr }) => Response | Promise<Response>,
  ): { readonly addr: DenoNetAddr; shutdown(): Promise<void>; readonly finished: Promise<void> };
  upgradeWebSocket(
    request: Request,
    options?: { idleTimeout?: number },
  ): { socket: WebSocket; response: Response };
  unrefTimer(id: ReturnType<typeof setTimeout>): void;
  readonly errors: {
    readonly BadResource: new (...args: never[]) => Error;
    readonly Interrupted: new (...args: never[]) => Error;
  };
}

/** The `Deno` global; throws a `TransportError` when not running under Deno. */
export function denoApi(): DenoApi {
  const deno = (globalThis as { Deno?: DenoApi }).Deno;
  if (deno === undefined) {
    throw new TransportError(
      "Ferry's Deno adapters need the Deno runtime, but globalThis.Deno is undefined",
    );
  }
  return deno;
}

/** Whether an error means "this resource was closed under the operation" (our own close). */
export function isClosedResourceError(deno: DenoApi, error: unknown): boolean {
  return error instanceof deno.errors.BadResource || error instanceof deno.errors.Interrupted;
}

/** The OS error code (`ECONNRESET`) or Deno's error class name (`ConnectionReset`). */
export function denoErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  return error instanceof Error && error.name !== "Error" ? error.name : undefined;
}
