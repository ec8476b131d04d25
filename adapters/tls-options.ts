/**
 * TLS adapter options shared by every runtime (`adapters/node/tls.ts`, `adapters/deno/tls.ts`):
 * the TCP options plus the certificate material both Node and Deno can honour. No runtime code.
 *
 * @module
 */

import { InvalidArgumentError } from "../src/errors.ts";
import { isValidTimeout } from "../src/deadline.ts";
import type { TcpConnectOptions, TcpListenOptions } from "./tcp-options.ts";

export interface TlsConnectOptions extends TcpConnectOptions {
  /**
   * Extra trusted certificates (PEM), in addition to the runtime's default roots — e.g. a
   * private CA or a self-signed server certificate.
   */
  readonly ca?: string | readonly string[];
  /** Name to verify the server certificate against (and send as SNI); default `host`. */
  readonly serverName?: string;
  /** ALPN protocols to offer. */
  readonly alpnProtocols?: readonly string[];
}

export interface TlsListenOptions extends TcpListenOptions {
  /** Certificate chain, PEM. */
  readonly cert: string;
  /** Private key, PEM (PKCS#8, RSA or EC). */
  readonly key: string;
  /** ALPN protocols to accept. */
  readonly alpnProtocols?: readonly string[];
  /** An accepted connection that has not finished its handshake by then is dropped (10 s). */
  readonly handshakeTimeoutMs?: number;
}

/** Default deadline for a server-side TLS handshake. */
export const defaultHandshakeTimeoutMs = 10_000;

function checkPem(value: unknown, name: string, what: string): string {
  if (typeof value !== "string" || !value.includes("-----BEGIN ")) {
    throw new InvalidArgumentError(
      `${what}: ${name} must be a PEM string, received ${
        typeof value === "string" ? `${value.length} characters without a PEM header` : typeof value
      }`,
    );
  }
  return value;
}

function checkAlpn(value: unknown, what: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((p) => typeof p !== "string" || p === "")) {
    throw new InvalidArgumentError(
      `${what}: alpnProtocols must be an array of non-empty strings, received ${String(value)}`,
    );
  }
  return [...value];
}

/** Checks the TLS part of `tlsConnect` options. */
export function checkTlsConnectOptions(options: TlsConnectOptions, what: string) {
  const ca = options.ca === undefined
    ? []
    : (typeof options.ca === "string" ? [options.ca] : [...options.ca]).map((pem, i) =>
      checkPem(pem, `ca[${i}]`, what)
    );
  const serverName = options.serverName ?? options.host;
  if (typeof serverName !== "string" || serverName === "") {
    throw new InvalidArgumentError(
      `${what}: serverName must be a non-empty string, received ${String(serverName)}`,
    );
  }
  return { ca, serverName, alpnProtocols: checkAlpn(options.alpnProtocols, what) };
}

/** Checks the TLS part of `tlsListen` options. */
export function checkTlsListenOptions(options: TlsListenOptions, what: string) {
  if (options === null || typeof options !== "object") {
    throw new InvalidArgumentError(`${what}: expected options { cert, key }, received ${options}`);
  }
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? defaultHandshakeTimeoutMs;
  if (!isValidTimeout(handshakeTimeoutMs)) {
    throw new InvalidArgumentError(
      `${what}: handshakeTimeoutMs must be a finite number ≥ 0, received ${handshakeTimeoutMs}`,
    );
  }
  return {
    cert: checkPem(options.cert, "cert", what),
    key: checkPem(options.key, "key", what),
    alpnProtocols: checkAlpn(options.alpnProtocols, what),
    handshakeTimeoutMs,
  };
}
