/**
 * The 17 client checks of the interop convention (`docs/interop.md`), in order, with their
 * exact names. Runtime-neutral: they take a connected `TransportClient` and report each result.
 *
 * Every check runs under its own deadline (one timer, aborting the check's requests through an
 * `AbortSignal`), so a broken or silent server makes checks fail instead of hanging the client.
 *
 * @module
 */

import { crc32 } from "../src/checksum/crc32.ts";
import type { ByteStream, TransportClient } from "../src/client/transport-client.ts";
import type { CallOptions } from "../src/deadline.ts";
import { RemoteError, TimeoutError } from "../src/errors.ts";
import { canonicalInt64 } from "../src/protocol/int64.ts";
import type { Int64 } from "../src/protocol/messages.ts";
import { genByteAt, openChunkContent, variedBytes } from "./patterns.ts";

/** What one check found. */
export interface CheckResult {
  readonly name: string;
  readonly passed: boolean;
  /** Why it failed (one line). */
  readonly detail?: string;
}

export interface ChecksSummary {
  readonly results: readonly CheckResult[];
  readonly passed: number;
  readonly failed: number;
}

export interface RunChecksOptions {
  /** Deadline of each check (default 15 000 ms). */
  readonly checkTimeoutMs?: number;
  /** Called with each result as soon as it is known (to print progressively). */
  readonly onResult?: (result: CheckResult) => void;
}

/** State a check leaves for a later one (the `open:3:1000` stream id for `fetch-chunks-3x1000`). */
interface Shared {
  threeByThousand?: Int64;
}

interface CheckContext {
  readonly client: TransportClient;
  /**
   * Options for one request: a deadline at the end of the check. (A deadline per request rather
   * than one shared signal: twenty concurrent requests on one signal would be twenty listeners.)
   */
  call(): CallOptions;
  /** Aborts when the check's deadline passes (for reading stream bodies). */
  readonly signal: AbortSignal;
  readonly shared: Shared;
}

interface Check {
  readonly name: string;
  run(context: CheckContext): Promise<void>;
}

/** An expectation that did not hold; its message is the check's FAIL detail. */
class CheckFailure extends Error {
  override get name(): string {
    return "CheckFailure";
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const utf8 = (text: string): Uint8Array => encoder.encode(text);

const checks: readonly Check[] = [
  {
    name: "rpc-echo",
    async run({ client, call }) {
      expectText(await client.sendRpc(utf8("hello"), call()), "hello", "reply");
    },
  },
  {
    name: "rpc-empty",
    async run({ client, call }) {
      const reply = await client.sendRpc(new Uint8Array(0), call());
      if (reply.byteLength !== 0) fail(`expected an empty reply, got ${reply.byteLength} bytes`);
    },
  },
  {
    name: "rpc-echo-4MiB",
    async run({ client, call }) {
      const body = variedBytes(4 * 1024 * 1024);
      expectBytes(await client.sendRpc(body, call()), body, "reply");
    },
  },
  {
    name: "rpc-failure",
    async run({ client, call }) {
      await expectRemoteFailure(client.sendRpc(utf8("fail:boom"), call()), "boom");
    },
  },
  {
    name: "rpc-concurrent-20",
    async run({ client, call }) {
      const names = Array.from({ length: 20 }, (_, i) => `msg-${i}`);
      const replies = await Promise.all(names.map((name) => client.sendRpc(utf8(name), call())));
      replies.forEach((reply, i) => expectText(reply, names[i]!, `reply to ${names[i]}`));
    },
  },
  {
    name: "one-way",
    async run({ client, call }) {
      expectText(await client.sendRpc(utf8("oneway-clear"), call()), "ok", "oneway-clear reply");
      client.send(utf8("ping-oneway-1"));
      client.send(utf8("ping-oneway-2"));
      const log = await client.sendRpc(utf8("oneway-log"), call());
      expectText(log, "ping-oneway-1\nping-oneway-2", "oneway-log reply");
    },
  },
  {
    name: "open-stream-reply-8-bytes",
    async run({ client, call, shared }) {
      shared.threeByThousand = await openStream(client, 3, 1000, call());
    },
  },
  {
    name: "fetch-chunks-3x1000",
    async run({ client, call, shared }) {
      const streamId = shared.threeByThousand;
      if (streamId === undefined) {
        fail("no stream to fetch: open-stream-reply-8-bytes did not produce a stream id");
      }
      for (let k = 0; k < 3; k++) {
        const chunk = await client.fetchChunk(streamId, k, call());
        expectBytes(chunk, openChunkContent(k, 1000), `chunk ${k}`);
      }
    },
  },
  {
    name: "fetch-chunks-pipelined-4x70000",
    async run({ client, call }) {
      const streamId = await openStream(client, 4, 70000, call());
      const fetches = [0, 1, 2, 3].map((k) => client.fetchChunk(streamId, k, call()));
      const chunks = await Promise.all(fetches);
      chunks.forEach((chunk, k) => expectBytes(chunk, openChunkContent(k, 70000), `chunk ${k}`));
    },
  },
  {
    name: "fetch-out-of-order-fails",
    async run({ client, call }) {
      const streamId = await openStream(client, 2, 10, call());
      await expectRemoteFailure(client.fetchChunk(streamId, 1, call()));
    },
  },
  {
    name: "fetch-unknown-stream-fails",
    async run({ client, call }) {
      await expectRemoteFailure(client.fetchChunk(unregisteredStreamId(), 0, call()));
    },
  },
  {
    name: "stream-gen-100000",
    async run({ client, call, signal }) {
      const bytes = await readStream(await client.stream("gen:100000", call()), signal);
      if (bytes.byteLength !== 100000) fail(`expected 100000 bytes, got ${bytes.byteLength}`);
      for (let i = 0; i < bytes.byteLength; i++) {
        if (bytes[i] !== genByteAt(i)) {
          fail(`byte ${i} is ${bytes[i]}, expected ${genByteAt(i)}`);
        }
      }
    },
  },
  {
    name: "stream-gen-0",
    async run({ client, call, signal }) {
      const stream = await client.stream("gen:0", call());
      const bytes = await readStream(stream, signal);
      if (bytes.byteLength !== 0) fail(`expected an empty stream, got ${bytes.byteLength} bytes`);
    },
  },
  {
    name: "stream-registered-chunk",
    async run({ client, call, signal }) {
      const streamId = await openStream(client, 2, 5000, call());
      const stream = await client.stream(`${streamId}_0`, call());
      expectBytes(await readStream(stream, signal), openChunkContent(0, 5000), "stream");
    },
  },
  {
    name: "stream-not-found",
    async run({ client, call }) {
      await expectRemoteFailure(client.stream("nope", call()), "Stream 'nope' was not found.");
    },
  },
  {
    name: "upload-stream",
    async run({ client, call }) {
      const data = variedBytes(50000, 0x5eed);
      const reply = await client.uploadStream(utf8("up1"), data, call());
      expectText(reply, `upload:up1:50000:${crc32(data).toString(16)}`, "reply");
    },
  },
  {
    name: "rpc-after-all",
    async run({ client, call }) {
      expectText(await client.sendRpc(utf8("bye"), call()), "bye", "reply");
    },
  },
];

/** The check names, in the order they run. */
export const interopCheckNames: readonly string[] = checks.map((check) => check.name);

/** Runs every check in order on `client` and returns the results. Never rejects. */
export async function runInteropChecks(
  client: TransportClient,
  options: RunChecksOptions = {},
): Promise<ChecksSummary> {
  const timeoutMs = options.checkTimeoutMs ?? 15_000;
  const shared: Shared = {};
  const results: CheckResult[] = [];
  for (const check of checks) {
    const result = await runOne(check, client, shared, timeoutMs);
    results.push(result);
    options.onResult?.(result);
  }
  return summarize(results);
}

/** Every check failed for the same reason (e.g. the connection could not be opened). */
export function failAllChecks(
  detail: string,
  onResult?: (result: CheckResult) => void,
): ChecksSummary {
  const results = checks.map((check) => ({ name: check.name, passed: false, detail }));
  results.forEach((result) => onResult?.(result));
  return summarize(results);
}

/** `PASS <name>` or `FAIL <name>: <detail>`. */
export function formatResult(result: CheckResult): string {
  return result.passed ? `PASS ${result.name}` : `FAIL ${result.name}: ${result.detail}`;
}

/** `N passed, M failed`. */
export function formatSummary(summary: ChecksSummary): string {
  return `${summary.passed} passed, ${summary.failed} failed`;
}

async function runOne(
  check: Check,
  client: TransportClient,
  shared: Shared,
  timeoutMs: number,
): Promise<CheckResult> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new TimeoutError(`no result within ${timeoutMs} ms`, timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    const deadline = Date.now() + timeoutMs;
    const call = (): CallOptions => ({ timeoutMs: Math.max(1, deadline - Date.now()) });
    const running = check.run({ client, call, signal: controller.signal, shared });
    running.catch(() => {}); // a check that lost the race may still fail later; nobody waits
    // The race ends the check even if a request ignored its signal.
    await Promise.race([running, expired]);
    return { name: check.name, passed: true };
  } catch (error) {
    return { name: check.name, passed: false, detail: describeFailure(error) };
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

function summarize(results: readonly CheckResult[]): ChecksSummary {
  const passed = results.filter((result) => result.passed).length;
  return { results, passed, failed: results.length - passed };
}

/** Sends `open:<n>:<size>` and decodes the 8-byte big-endian stream id. */
async function openStream(
  client: TransportClient,
  chunks: number,
  size: number,
  call: CallOptions,
): Promise<Int64> {
  const reply = await client.sendRpc(utf8(`open:${chunks}:${size}`), call);
  if (reply.byteLength !== 8) {
    fail(`open:${chunks}:${size} replied ${reply.byteLength} bytes, expected an 8-byte stream id`);
  }
  return canonicalInt64(new DataView(reply.buffer, reply.byteOffset, 8).getBigInt64(0));
}

/** A random 63-bit id: no server registered it (the chance of a collision is negligible). */
function unregisteredStreamId(): bigint {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return new DataView(bytes.buffer).getBigInt64(0);
}

/** Reads a received stream to its end; cancels it if the check's deadline passes. */
async function readStream(stream: ByteStream, signal: AbortSignal): Promise<Uint8Array> {
  const expected = stream.byteLength;
  const out = new Uint8Array(expected);
  const reader = stream.getReader();
  const onAbort = () => reader.cancel(signal.reason).catch(() => {});
  signal.addEventListener("abort", onAbort, { once: true });
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (received + value.byteLength > expected) {
        fail(`the stream announced ${expected} bytes but delivered more`);
      }
      out.set(value, received);
      received += value.byteLength;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    reader.releaseLock();
  }
  signal.throwIfAborted();
  if (received !== expected) {
    fail(`the stream announced ${expected} bytes but ended after ${received}`);
  }
  return out;
}

async function expectRemoteFailure(request: Promise<unknown>, contains?: string): Promise<void> {
  let outcome: unknown;
  try {
    outcome = await request;
  } catch (error) {
    if (!(error instanceof RemoteError)) throw error;
    if (contains !== undefined && !error.remoteMessage.includes(contains)) {
      fail(
        `the failure does not contain ${JSON.stringify(contains)}: ` +
          JSON.stringify(oneLine(error.remoteMessage)),
      );
    }
    return;
  }
  // A stream nobody reads would hold up the connection: discard it.
  if (outcome instanceof ReadableStream) await outcome.cancel().catch(() => {});
  fail(`expected a failure from the server, got a success (${describeValue(outcome)})`);
}

function expectText(actual: Uint8Array, expected: string, what: string): void {
  const text = decoder.decode(actual);
  if (text !== expected) {
    fail(`${what} was ${JSON.stringify(clip(text))}, expected ${JSON.stringify(clip(expected))}`);
  }
}

function expectBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (actual.byteLength !== expected.byteLength) {
    fail(`${what} has ${actual.byteLength} bytes, expected ${expected.byteLength}`);
  }
  for (let i = 0; i < expected.byteLength; i++) {
    if (actual[i] !== expected[i]) {
      fail(`${what} differs at byte ${i}: got ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

function fail(detail: string): never {
  throw new CheckFailure(detail);
}

function describeFailure(error: unknown): string {
  if (error instanceof CheckFailure) return error.message;
  if (error instanceof RemoteError) {
    return `unexpected failure from the server: ${oneLine(error.remoteMessage)}`;
  }
  if (error instanceof Error) return oneLine(`${error.name}: ${error.message}`);
  return oneLine(String(error));
}

function describeValue(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  if (value instanceof ReadableStream) return "a stream";
  return typeof value;
}

/** Java stack traces span lines; a FAIL line must not. */
function oneLine(text: string): string {
  return clip(text.replace(/\s*\r?\n\s*/g, " | "), 300);
}

function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
