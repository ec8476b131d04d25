import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { TransportClient } from "../../src/client/transport-client.ts";
import { InvalidArgumentError, LimitError } from "../../src/errors.ts";
import { crc32 } from "../../src/checksum/crc32.ts";
import {
  createInteropStreamManager,
  InteropRpcHandler,
  openGenStream,
} from "../../interop/interop-handler.ts";
import { genStreamBody, openChunkContent, variedBytes } from "../../interop/patterns.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const fakeClient = (name: string) => ({ name }) as unknown as TransportClient;

function concat(chunks: Iterable<Uint8Array>): Uint8Array {
  const list = [...chunks];
  const out = new Uint8Array(list.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of list) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    pull(controller) {
      const next = chunks.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
  });
}

describe("interop patterns", () => {
  it("chunk k of an open: stream has byte i = (k*31 + i) & 0xff", () => {
    for (const [k, size] of [[0, 0], [0, 1], [1, 300], [7, 70000], [9, 256], [3, 257]] as const) {
      const chunk = openChunkContent(k, size);
      assert.equal(chunk.byteLength, size);
      for (let i = 0; i < size; i++) assert.equal(chunk[i], (k * 31 + i) & 0xff, `k=${k} i=${i}`);
    }
  });

  it("gen:<size> bodies have byte i = i & 0xff and exactly size bytes", () => {
    for (const size of [0, 1, 255, 65536, 65537, 200000]) {
      const body = concat(genStreamBody(size));
      assert.equal(body.byteLength, size);
      for (let i = 0; i < size; i++) if (body[i] !== (i & 0xff)) assert.fail(`byte ${i}`);
    }
  });

  it("varied bytes are deterministic per seed and not a short cycle", () => {
    assert.deepEqual(variedBytes(1001, 5), variedBytes(1001, 5));
    assert.notDeepEqual(variedBytes(64, 5), variedBytes(64, 6));
    const bytes = variedBytes(4096);
    assert.ok(new Set(bytes).size > 200);
    assert.notDeepEqual(bytes.subarray(0, 256), bytes.subarray(256, 512));
  });
});

describe("InteropRpcHandler", () => {
  it("echoes anything else byte for byte, including prefixes of the commands", () => {
    const handler = new InteropRpcHandler(createInteropStreamManager());
    const client = fakeClient("a");
    for (const body of ["hello", "", "open", "oneway-logs", "fail", "ope:1:2"]) {
      assert.equal(text(handler.receive(client, utf8(body))), body);
    }
    const binary = variedBytes(10_000);
    assert.deepEqual(handler.receive(client, binary), binary);
  });

  it("fail:<msg> throws an error carrying the message", () => {
    const handler = new InteropRpcHandler(createInteropStreamManager());
    assert.throws(() => handler.receive(fakeClient("a"), utf8("fail:boom")), { message: "boom" });
  });

  it("open:<n>:<size> registers a stream for the caller and replies its id big-endian", async () => {
    const streams = createInteropStreamManager();
    const handler = new InteropRpcHandler(streams);
    const client = fakeClient("a");
    const reply = handler.receive(client, utf8("open:2:300"));
    assert.equal(reply.byteLength, 8);
    const id = new DataView(reply.buffer, reply.byteOffset).getBigInt64(0);
    assert.ok(id > 0n);
    const streamId = id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id;
    assert.deepEqual(await streams.getChunk(streamId, 0, client), openChunkContent(0, 300));
    assert.deepEqual(await streams.getChunk(streamId, 1, client), openChunkContent(1, 300));
    await assert.rejects(streams.getChunk(streamId, 0, fakeClient("b")), /no such stream/);
  });

  it("refuses malformed or oversized open: requests with a clear error", () => {
    const handler = new InteropRpcHandler(createInteropStreamManager(), { maxChunkSize: 1000 });
    const client = fakeClient("a");
    for (const body of ["open:", "open:1", "open:a:1", "open:1:-1", "open:1:2:3", "open:01:5"]) {
      assert.throws(
        () => handler.receive(client, utf8(body)),
        (error) =>
          error instanceof InvalidArgumentError &&
          error.message.includes("expected open:<chunkCount>:<chunkSize>"),
        body,
      );
    }
    assert.throws(() => handler.receive(client, utf8("open:1:1001")), LimitError);
    assert.throws(() => handler.receive(client, utf8("open:2147483648:1")), /int32/);
  });

  it("keeps one one-way log per connection, cleared on request and on close", () => {
    const handler = new InteropRpcHandler(createInteropStreamManager(), { maxOneWayLog: 3 });
    const a = fakeClient("a");
    const b = fakeClient("b");
    assert.equal(text(handler.receive(a, utf8("oneway-log"))), "");
    handler.receiveOneWay(a, utf8("one"));
    handler.receiveOneWay(b, utf8("other"));
    handler.receiveOneWay(a, utf8("two"));
    assert.equal(text(handler.receive(a, utf8("oneway-log"))), "one\ntwo");
    assert.equal(text(handler.receive(b, utf8("oneway-log"))), "other");
    assert.equal(text(handler.receive(a, utf8("oneway-clear"))), "ok");
    assert.equal(text(handler.receive(a, utf8("oneway-log"))), "");
    handler.channelInactive(b);
    assert.equal(text(handler.receive(b, utf8("oneway-log"))), "");
    for (const message of ["1", "2", "3", "4"]) handler.receiveOneWay(a, utf8(message));
    assert.throws(() => handler.receive(a, utf8("oneway-log")), /1 messages beyond the 3 kept/);
  });

  it("replies to an upload with its meta, byte count and CRC-32 in lowercase hex", async () => {
    const handler = new InteropRpcHandler(createInteropStreamManager());
    const data = variedBytes(50_001, 9);
    const pieces = [data.subarray(0, 7), data.subarray(7, 40_000), data.subarray(40_000)];
    const reply = await handler.receiveStream(fakeClient("a"), utf8("up1"), streamOf(pieces));
    assert.equal(text(reply), `upload:up1:50001:${crc32(data).toString(16)}`);
    const empty = await handler.receiveStream(fakeClient("a"), utf8("m:x"), streamOf([]));
    assert.equal(text(empty), "upload:m:x:0:0");
  });
});

describe("openGenStream", () => {
  it("serves gen:<size>, leaves other ids to the not-found answer, and explains bad sizes", () => {
    const body = openGenStream("gen:70000");
    assert.equal(body?.byteLength, 70000);
    assert.equal(concat(body!.body as Iterable<Uint8Array>).byteLength, 70000);
    assert.equal(openGenStream("gen:0")?.byteLength, 0);
    assert.equal(openGenStream("nope"), undefined);
    assert.equal(openGenStream("generator"), undefined);
    for (const id of ["gen:", "gen:-1", "gen:1e3", "gen:abc", "gen:99999999999999999"]) {
      assert.throws(
        () => openGenStream(id),
        /^InvalidArgumentError: Stream 'gen:.*' was not found\./,
      );
    }
  });
});
