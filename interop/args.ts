/**
 * Command lines of the interop programs (`docs/interop.md`), parsed without any runtime API
 * so they can be tested anywhere.
 *
 * - Server: `[port] [host] [--ws <port>] [--tls <port>] [--cert-out <file>]` — port 0 (default)
 *   picks a free one, host defaults to 127.0.0.1. `--tls` adds a TLS listener with a freshly
 *   generated self-signed test certificate, which `--cert-out` writes (PEM) for clients to trust.
 * - Client: `<host> <port>` or one URL (`tcp://host:port`, `tls://host:port`, `ws://host:port/path`,
 *   `wss://…`), plus `--timeout-ms <ms>` (deadline of each check) and `--ca <file>` (a PEM
 *   certificate to trust for tls:// and wss://, in addition to the default roots).
 * - Both: `--sasl-secret <secret>` turns on Spark's SASL authentication (`spark.authenticate`),
 *   `--sasl-app-id <appId>` names the application (default `app-1`; a server then knows only that
 *   appId) and `--sasl-encrypt` asks for SASL encryption (client: qop auth-conf; server: offer
 *   only auth-conf, Spark's `serverAlwaysEncrypt`).
 *
 * @module
 */

import { InvalidArgumentError } from "../src/errors.ts";

/** Where the interop client connects. */
export interface InteropTarget {
  readonly scheme: "tcp" | "tls" | "ws" | "wss";
  readonly host: string;
  readonly port: number;
  /** The target as a URL (`tcp://127.0.0.1:7337`, `ws://host:port/path`). */
  readonly url: string;
}

/** Spark SASL settings (`--sasl-secret`, `--sasl-app-id`, `--sasl-encrypt`). */
export interface SaslArgs {
  readonly secret: string;
  readonly appId: string;
  readonly encrypt: boolean;
  /** Whether `--sasl-app-id` was given (a server then accepts only that appId). */
  readonly appIdGiven: boolean;
}

export interface ClientArgs {
  readonly target: InteropTarget;
  /** Authenticate with Spark's SASL first. */
  readonly sasl?: SaslArgs;
  /** Deadline of each check, in milliseconds. */
  readonly checkTimeoutMs: number;
  /** PEM file with certificates to trust for tls:// and wss:// (`--ca <file>`). */
  readonly caFile?: string;
}

export interface ServerArgs {
  readonly host: string;
  readonly port: number;
  /** Also serve WebSocket on this port (`--ws <port>`). */
  readonly wsPort?: number;
  /** Also serve TLS on this port with a generated test certificate (`--tls <port>`). */
  readonly tlsPort?: number;
  /** Write the generated certificate (PEM) to this file (`--cert-out <file>`; needs `--tls`). */
  readonly certOut?: string;
  /** Require Spark's SASL on every connection. */
  readonly sasl?: SaslArgs;
}

const SASL_USAGE = " [--sasl-secret <secret> [--sasl-app-id <appId>] [--sasl-encrypt]]";
export const clientUsage =
  "usage: client <host> <port> | client <tcp|tls|ws|wss>://host:port[/path]" +
  " [--timeout-ms <ms>] [--ca <file>]" + SASL_USAGE;
export const serverUsage =
  "usage: server [port] [host] [--ws <port>] [--tls <port>] [--cert-out <file>]" + SASL_USAGE;
const SASL_FLAGS = ["--sasl-secret", "--sasl-app-id", "--sasl-encrypt"];
const DEFAULT_SASL_APP_ID = "app-1";

const DEFAULT_HOST = "127.0.0.1";
const DEFAULT_CHECK_TIMEOUT_MS = 15_000;
const SCHEMES = new Set(["tcp", "tls", "ws", "wss"]);

/** @throws InvalidArgumentError with what was wrong and the value received. */
export function parseClientArgs(args: readonly string[]): ClientArgs {
  const { positional, flags } = splitFlags(
    args,
    ["--timeout-ms", "--ca", ...SASL_FLAGS],
    clientUsage,
  );
  const sasl = parseSasl(flags, clientUsage);
  const timeout = flags.get("--timeout-ms");
  const checkTimeoutMs = timeout === undefined
    ? DEFAULT_CHECK_TIMEOUT_MS
    : parseInteger(timeout, "--timeout-ms", 1, 3_600_000);
  const ca = flags.get("--ca");
  const caFile = {
    ...(ca === undefined ? {} : { caFile: checkPath(ca, "--ca") }),
    ...(sasl === undefined ? {} : { sasl }),
  };
  if (positional.length === 1) {
    return { target: parseTargetUrl(positional[0]!), checkTimeoutMs, ...caFile };
  }
  if (positional.length === 2) {
    const host = checkHost(positional[0]!);
    const port = parseInteger(positional[1]!, "port", 1, 65535);
    return {
      target: { scheme: "tcp", host, port, url: tcpUrl("tcp", host, port) },
      checkTimeoutMs,
      ...caFile,
    };
  }
  throw new InvalidArgumentError(
    `Expected a host and a port, or one URL; got ${positional.length} arguments ` +
      `(${JSON.stringify(positional)}). ${clientUsage}`,
  );
}

/** @throws InvalidArgumentError with what was wrong and the value received. */
export function parseServerArgs(args: readonly string[]): ServerArgs {
  const { positional, flags } = splitFlags(
    args,
    ["--ws", "--tls", "--cert-out", ...SASL_FLAGS],
    serverUsage,
  );
  const sasl = parseSasl(flags, serverUsage);
  if (positional.length > 2) {
    throw new InvalidArgumentError(
      `Expected at most a port and a host, got ${JSON.stringify(positional)}. ${serverUsage}`,
    );
  }
  const port = positional[0] === undefined ? 0 : parseInteger(positional[0], "port", 0, 65535);
  const host = positional[1] === undefined ? DEFAULT_HOST : checkHost(positional[1]);
  const ws = flags.get("--ws");
  const tls = flags.get("--tls");
  const certOut = flags.get("--cert-out");
  if (certOut !== undefined && tls === undefined) {
    throw new InvalidArgumentError(
      `--cert-out ${JSON.stringify(certOut)} needs --tls <port>: there is no certificate ` +
        `without a TLS listener. ${serverUsage}`,
    );
  }
  return {
    host,
    port,
    ...(ws === undefined ? {} : { wsPort: parseInteger(ws, "--ws port", 0, 65535) }),
    ...(tls === undefined ? {} : { tlsPort: parseInteger(tls, "--tls port", 0, 65535) }),
    ...(certOut === undefined ? {} : { certOut: checkPath(certOut, "--cert-out") }),
    ...(sasl === undefined ? {} : { sasl }),
  };
}

function parseSasl(flags: Map<string, string>, usage: string): SaslArgs | undefined {
  const secret = flags.get("--sasl-secret");
  const appId = flags.get("--sasl-app-id");
  const encrypt = flags.has("--sasl-encrypt");
  if (secret === undefined) {
    if (appId !== undefined || encrypt) {
      throw new InvalidArgumentError(
        `${appId !== undefined ? "--sasl-app-id" : "--sasl-encrypt"} needs --sasl-secret. ${usage}`,
      );
    }
    return undefined;
  }
  if (secret === "") throw new InvalidArgumentError(`--sasl-secret must not be empty. ${usage}`);
  if (appId === "") throw new InvalidArgumentError(`--sasl-app-id must not be empty. ${usage}`);
  return { secret, appId: appId ?? DEFAULT_SASL_APP_ID, encrypt, appIdGiven: appId !== undefined };
}

function checkPath(path: string, what: string): string {
  if (path === "" || path.includes("\0")) {
    throw new InvalidArgumentError(`Invalid ${what} file ${JSON.stringify(path)}`);
  }
  return path;
}

function parseTargetUrl(text: string): InteropTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError(
      `Expected a URL like tcp://host:port when given one argument, got ${JSON.stringify(text)}. ` +
        clientUsage,
    );
  }
  const scheme = url.protocol.slice(0, -1);
  if (!SCHEMES.has(scheme)) {
    throw new InvalidArgumentError(
      `Unsupported scheme '${scheme}:' in ${JSON.stringify(text)}: expected tcp, tls, ws or wss`,
    );
  }
  const host = checkHost(url.hostname.replace(/^\[(.*)\]$/, "$1"));
  const defaultPort = scheme === "ws" ? 80 : scheme === "wss" ? 443 : undefined;
  if (url.port === "" && defaultPort === undefined) {
    throw new InvalidArgumentError(`The URL ${JSON.stringify(text)} has no port`);
  }
  const port = url.port === "" ? defaultPort! : parseInteger(url.port, "port", 1, 65535);
  const isWebSocket = scheme === "ws" || scheme === "wss";
  return {
    scheme: scheme as InteropTarget["scheme"],
    host,
    port,
    url: isWebSocket ? url.href : tcpUrl(scheme, host, port),
  };
}

/** Options that take no value. */
const BOOLEAN_FLAGS = new Set(["--sasl-encrypt"]);

function splitFlags(
  args: readonly string[],
  known: readonly string[],
  usage: string,
): { positional: string[]; flags: Map<string, string> } {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    if (!known.includes(arg)) {
      throw new InvalidArgumentError(`Unknown option ${JSON.stringify(arg)}. ${usage}`);
    }
    if (BOOLEAN_FLAGS.has(arg)) {
      flags.set(arg, "true");
      continue;
    }
    const value = args[++i];
    if (value === undefined) throw new InvalidArgumentError(`${arg} needs a value. ${usage}`);
    flags.set(arg, value);
  }
  return { positional, flags };
}

function parseInteger(text: string, what: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) {
    throw new InvalidArgumentError(
      `Invalid ${what} ${JSON.stringify(text)}: expected an integer from ${min} to ${max}`,
    );
  }
  return value;
}

function checkHost(host: string): string {
  if (host === "" || /[\s/]/.test(host)) {
    throw new InvalidArgumentError(`Invalid host ${JSON.stringify(host)}`);
  }
  return host;
}

function tcpUrl(scheme: string, host: string, port: number): string {
  return `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}`;
}
