/**
 * The client's opening handshake (RFC 6455 §4.1): the HTTP/1.1 upgrade request, and the checks on
 * the server's answer. Web-platform only (`crypto.getRandomValues`, `crypto.subtle`, `btoa`).
 *
 * A response is accepted only if it is `101`, upgrades to `websocket`, carries the
 * `Sec-WebSocket-Accept` that proves the server read this request's key, negotiates no extension
 * (none is offered) and picks one of the offered subprotocols if any were offered. Anything else
 * rejects with a `ConnectError` that quotes what the server sent.
 *
 * @module
 */

import { ConnectError, InvalidArgumentError, LimitError } from "../errors.ts";

/** The GUID a server appends to the key before hashing it (RFC 6455 §1.3). */
const ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** Longest response head accepted (status line and headers). */
export const MAX_RESPONSE_HEAD_BYTES = 16 * 1024;
/** Characters allowed in a subprotocol name (an HTTP token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** An upgrade request ready to send, and what its answer is checked against. */
export interface WebSocketHandshake {
  readonly request: Uint8Array;
  readonly key: string;
  readonly protocols: readonly string[];
}

/** What the server agreed to. */
export interface AcceptedHandshake {
  /** The subprotocol the server picked ("" when none was offered). */
  readonly protocol: string;
}

/** Checks subprotocol names: HTTP tokens, no duplicates. */
export function checkProtocols(protocols: unknown, what: string): string[] {
  const list = protocols === undefined
    ? []
    : typeof protocols === "string"
    ? [protocols]
    : Array.isArray(protocols)
    ? [...protocols]
    : undefined;
  if (list === undefined || list.some((p) => typeof p !== "string" || !TOKEN.test(p))) {
    throw new InvalidArgumentError(
      `${what}: protocols must be a token or an array of tokens, received ${String(protocols)}`,
    );
  }
  if (new Set(list).size !== list.length) {
    throw new InvalidArgumentError(`${what}: protocols has duplicates: ${list.join(", ")}`);
  }
  return list;
}

/** Builds the upgrade request for `url` (`ws:` or `wss:`) with a fresh random key. */
export function createHandshake(url: URL, protocols: readonly string[]): WebSocketHandshake {
  const nonce = crypto.getRandomValues(new Uint8Array(16));
  const key = btoa(String.fromCharCode(...nonce));
  const lines = [
    `GET ${url.pathname || "/"}${url.search} HTTP/1.1`,
    `Host: ${url.host}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`,
    "Sec-WebSocket-Version: 13",
  ];
  if (protocols.length > 0) lines.push(`Sec-WebSocket-Protocol: ${protocols.join(", ")}`);
  return {
    request: new TextEncoder().encode(`${lines.join("\r\n")}\r\n\r\n`),
    key,
    protocols,
  };
}

/**
 * Where the response head ends in `bytes` (the index after its blank line), or -1 while it is
 * incomplete. Throws a `LimitError` once more than {@linkcode MAX_RESPONSE_HEAD_BYTES} arrived
 * without one.
 */
export function responseHeadEnd(bytes: Uint8Array, target: string): number {
  const limit = Math.min(bytes.length, MAX_RESPONSE_HEAD_BYTES);
  for (let i = 3; i < limit; i++) {
    if (bytes[i] === 10 && bytes[i - 1] === 13 && bytes[i - 2] === 10 && bytes[i - 3] === 13) {
      return i + 1;
    }
  }
  if (bytes.length >= MAX_RESPONSE_HEAD_BYTES) {
    throw new LimitError(
      `WebSocket upgrade to ${target}: the response head is over ${MAX_RESPONSE_HEAD_BYTES} ` +
        `bytes without ending`,
    );
  }
  return -1;
}

/** Checks the server's response head (`head`, up to and including its blank line). */
export async function acceptResponse(
  head: Uint8Array,
  handshake: WebSocketHandshake,
  target: string,
): Promise<AcceptedHandshake> {
  const text = new TextDecoder("latin1").decode(head);
  const [statusLine = "", ...headerLines] = text.slice(0, -4).split("\r\n");
  const refuse = (why: string): never => {
    throw new ConnectError(`WebSocket upgrade to ${target} refused: ${why}`);
  };
  const status = /^HTTP\/1\.1 (\d{3})(?: (.*))?$/.exec(statusLine);
  if (status === null) {
    refuse(`not an HTTP/1.1 response: ${JSON.stringify(statusLine.slice(0, 80))}`);
  }
  if (status![1] !== "101") refuse(`the server answered ${statusLine.slice(9).trim()}`);
  const headers = new Map<string, string>();
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon <= 0) refuse(`a malformed header line ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  const tokens = (name: string) =>
    (headers.get(name) ?? "").toLowerCase().split(",").map((t) => t.trim());
  if (!tokens("upgrade").includes("websocket")) {
    refuse(`Upgrade is ${JSON.stringify(headers.get("upgrade") ?? "missing")}, not websocket`);
  }
  if (!tokens("connection").includes("upgrade")) {
    refuse(`Connection is ${JSON.stringify(headers.get("connection") ?? "missing")}, not upgrade`);
  }
  const expected = await acceptKey(handshake.key);
  const accept = headers.get("sec-websocket-accept");
  if (accept !== expected) {
    refuse(`Sec-WebSocket-Accept is ${JSON.stringify(accept ?? "missing")}, expected ${expected}`);
  }
  const extensions = headers.get("sec-websocket-extensions");
  if (extensions !== undefined) {
    refuse(`it negotiated extensions (${extensions}) that were not offered`);
  }
  const protocol = headers.get("sec-websocket-protocol") ?? "";
  if (handshake.protocols.length > 0 && !handshake.protocols.includes(protocol)) {
    refuse(
      protocol === ""
        ? `no subprotocol chosen of ${handshake.protocols.join(", ")}`
        : `subprotocol ${JSON.stringify(protocol)} was not offered`,
    );
  }
  if (handshake.protocols.length === 0 && protocol !== "") {
    refuse(`subprotocol ${JSON.stringify(protocol)} was not offered (none was)`);
  }
  return { protocol };
}

/** `base64(SHA-1(key + GUID))`: what the server must answer in `Sec-WebSocket-Accept`. */
export async function acceptKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + ACCEPT_GUID));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}
