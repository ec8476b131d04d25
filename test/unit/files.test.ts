/**
 * The file service and its download over in-memory connections: listing, opening, a parallel
 * download over several connections written in order and verified, resume after an abort, a
 * connection lost mid-download, a lying checksum, a changed file, missing files, empty files.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TransportClient } from "../../src/client/transport-client.ts";
import type { RemoteError } from "../../src/errors.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { OneForOneStreamManager } from "../../src/responder/one-for-one-stream-manager.ts";
import { defineService, serviceClient, ServiceRouter } from "../../src/rpc/mod.ts";
import {
  ChecksumMismatchError,
  ChunkDigestMismatchError,
  downloadFile,
  downloadFileFromPool,
  type FileCatalog,
  FileChangedError,
  FileErrorCode,
  fileService,
  fileServiceImplementation,
  memoryFileCatalog,
  Sha256,
} from "../../src/files/mod.ts";
import { memoryNetwork, memorySocketPair } from "../helpers/memory-socket.ts";
import { settle } from "../helpers/fake-clock.ts";
import { ConnectionPool } from "../../src/pool/connection-pool.ts";
import { transportConnector } from "../../src/pool/transport-connector.ts";

function pattern(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

const big = pattern(50_123, 7);
const CHUNK = 1000;

function serveCatalog(catalog: FileCatalog) {
  const streams = new OneForOneStreamManager();
  const router = new ServiceRouter().serve(
    fileService,
    fileServiceImplementation(catalog, streams),
  );
  const server = new TransportServer({ rpcHandler: router, streamManager: streams });
  const clients: TransportClient[] = [];
  return {
    streams,
    connect(): TransportClient {
      const [a, b] = memorySocketPair();
      server.accept(b);
      const client = new TransportClient(a);
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.close();
      await server.close();
    },
  };
}

function collector() {
  const chunks: Uint8Array[] = [];
  const order: number[] = [];
  return {
    chunks,
    order,
    write: (chunk: Uint8Array, index: number, offset: number) => {
      assert.equal(offset, index * CHUNK);
      order.push(index);
      chunks[index] = chunk.slice();
    },
    bytes: () => {
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
      let at = 0;
      for (const chunk of chunks) out.set(chunk, (at += chunk.byteLength) - chunk.byteLength);
      return out;
    },
  };
}

test("list and open describe files; open hands out a bigint stream id; missing is typed", async () => {
  const served = serveCatalog(memoryFileCatalog({ "big.bin": big, "empty": new Uint8Array() }, {
    chunkSize: CHUNK,
  }));
  try {
    const files = serviceClient(fileService, served.connect());
    const list = await files.list();
    assert.deepEqual(list.map((f) => [f.name, f.size, f.chunkSize, f.chunkCount]), [
      ["big.bin", 50_123, CHUNK, 51],
      ["empty", 0, CHUNK, 0],
    ]);
    assert.equal(list[0]!.sha256, new Sha256().update(big).hexDigest());
    const opened = await files.open({ name: "big.bin" });
    assert.equal(typeof opened.streamId, "bigint");
    assert.equal(served.streams.stats().streams, 1);
    assert.equal(await files.release({ streamId: opened.streamId }), true);
    assert.equal(await files.release({ streamId: opened.streamId }), false);
    assert.equal(served.streams.stats().streams, 0);
    await assert.rejects(files.open({ name: "nope.bin" }), (e: RemoteError) => {
      assert.equal(e.remoteCode, FileErrorCode.NotFound);
      assert.match(e.remoteMessage, /"nope\.bin".*big\.bin, empty/);
      return true;
    });
    await assert.rejects(
      files.open({ name: "../etc/passwd" }),
      (e: RemoteError) => e.remoteCode === "ERR_RPC_BAD_REQUEST",
    );
  } finally {
    await served.close();
  }
});

test("a download over three connections writes in order, spreads chunks, verifies each", async () => {
  const served = serveCatalog(memoryFileCatalog({ "big.bin": big }, { chunkSize: CHUNK }));
  try {
    const connections = [served.connect(), served.connect(), served.connect()];
    const fetched = connections.map(() => 0);
    const counted = connections.map((client, i) => ({
      sendRpc: client.sendRpc.bind(client),
      fetchChunk: (...args: Parameters<TransportClient["fetchChunk"]>) => (
        fetched[i]!++, client.fetchChunk(...args)
      ),
    }));
    const out = collector();
    let progressCalls = 0;
    const arrived = new Map<number, number>();
    const result = await downloadFile({
      name: "big.bin",
      connections: counted,
      inFlight: 6,
      write: out.write,
      onChunkFetched: (index, byteLength, connection) => {
        assert.equal(byteLength, index === 50 ? 123 : CHUNK);
        arrived.set(index, connection);
      },
      onProgress: (p) => {
        progressCalls++;
        assert.ok(p.inFlight <= 6);
      },
    });
    // Index order by default (for appending sinks), each chunk once.
    assert.deepEqual(out.order, Array.from({ length: 51 }, (_, i) => i));
    assert.equal(result.chunkDigests, true);
    assert.deepEqual(out.bytes(), big);
    assert.equal(result.sha256, result.file.sha256);
    assert.equal(result.chunksFetched, 51);
    assert.equal(result.bytesFetched, big.byteLength);
    assert.equal(progressCalls, 51);
    for (const count of fetched) assert.ok(count > 0, `every connection fetched (${fetched})`);
    assert.equal(arrived.size, 51);
    for (let i = 0; i < 3; i++) {
      assert.equal([...arrived.values()].filter((c) => c === i).length, fetched[i]);
    }
    // The download released the streams it opened (the release RPCs take a few event-loop turns
    // on memory sockets; turns, not milliseconds, so load cannot change the outcome).
    for (let turn = 0; turn < 50 && served.streams.stats().streams > 0; turn++) await settle();
    assert.equal(served.streams.stats().streams, 0);
  } finally {
    await served.close();
  }
});

test("an aborted download keeps its written chunks; resuming fetches only the rest", async () => {
  const served = serveCatalog(memoryFileCatalog({ "big.bin": big }, { chunkSize: CHUNK }));
  try {
    const out = collector();
    const controller = new AbortController();
    const recordedChunks = new Set<number>();
    await assert.rejects(
      downloadFile({
        name: "big.bin",
        connections: [served.connect(), served.connect()],
        inFlight: 4,
        signal: controller.signal,
        write: out.write,
        onChunkWritten: (index) => recordedChunks.add(index),
        onProgress: (p) => {
          if (p.chunksWritten === 20) controller.abort(new Error("interrupted"));
        },
      }),
      /interrupted/,
    );
    assert.ok(recordedChunks.size >= 20 && recordedChunks.size < 51, `${recordedChunks.size}`);
    const kept = new Map([...recordedChunks].map((i) => [i, out.chunks[i]!]));
    const resumed = collector();
    let keptReported = -1;
    const result = await downloadFile({
      name: "big.bin",
      connections: [served.connect()],
      written: recordedChunks,
      readWritten: (index) => kept.get(index)!,
      onResumeChecked: (keptSet, rejected) => {
        keptReported = keptSet.size;
        assert.equal(rejected, 0);
      },
      write: resumed.write,
    });
    assert.equal(keptReported, recordedChunks.size);
    assert.equal(result.chunksKept, recordedChunks.size);
    assert.equal(result.chunksFetched, 51 - recordedChunks.size);
    for (const [i, chunk] of kept) resumed.chunks[i] = chunk;
    assert.deepEqual(resumed.bytes(), big);
    assert.equal(result.sha256, result.file.sha256);
  } finally {
    await served.close();
  }
});

test("resume re-verifies kept chunks: truncated or flipped ones are fetched again, good ones kept", async () => {
  const served = serveCatalog(memoryFileCatalog({ "big.bin": big }, { chunkSize: CHUNK }));
  try {
    const part = big.slice(0, 40 * CHUNK - 10); // chunk 39 torn, 40..50 missing
    part[5 * CHUNK + 3]! ^= 1; // chunk 5 flipped
    part[17 * CHUNK]! ^= 0x80; // chunk 17 flipped
    const out = collector();
    const result = await downloadFile({
      name: "big.bin",
      connections: [served.connect(), served.connect()],
      writeOrder: "arrival",
      startChunk: 51,
      readWritten: (index, length) => part.slice(index * CHUNK, index * CHUNK + length),
      write: out.write,
    });
    assert.deepEqual(out.order.toSorted((a, b) => a - b), [5, 17, ...range(39, 51)]);
    assert.equal(result.chunksKept, 51 - 14);
    const whole = new Uint8Array(big.byteLength);
    whole.set(part.subarray(0, Math.min(part.byteLength, big.byteLength)));
    for (const [i, chunk] of out.chunks.entries()) if (chunk) whole.set(chunk, i * CHUNK);
    assert.deepEqual(whole, big);
  } finally {
    await served.close();
  }
});

test("a chunk damaged in flight is refetched on another connection; one always damaged fails by name", async () => {
  const honest = memoryFileCatalog({ "big.bin": big }, { chunkSize: CHUNK });
  let damage = 1; // fetches of chunk 7 to damage
  const flaky: FileCatalog = {
    list: () => honest.list(),
    open: async (name) => {
      const file = (await honest.open(name))!;
      return {
        ...file,
        source: {
          chunkCount: file.source.chunkCount,
          getChunk: async (index) => {
            const bytes = (await file.source.getChunk(index)).slice();
            if (index === 7 && damage > 0) {
              damage--;
              bytes[0]! ^= 1;
            }
            return bytes;
          },
        },
      };
    },
  };
  const served = serveCatalog(flaky);
  try {
    const out = collector();
    const lanes: number[] = [];
    const result = await downloadFile({
      name: "big.bin",
      connections: [served.connect(), served.connect()],
      write: out.write,
      onChunkFetched: (index, _length, lane) => index === 7 && lanes.push(lane),
    });
    assert.equal(result.badChunks, 1);
    assert.equal(result.chunksFetched, 52);
    assert.equal(lanes.length, 2);
    assert.notEqual(lanes[0], lanes[1], "refetched on the other connection");
    assert.deepEqual(out.bytes(), big);

    damage = 100;
    await assert.rejects(
      downloadFile({
        name: "big.bin",
        connections: [served.connect()],
        maxRefetches: 2,
        write: () => {},
      }),
      (e: ChunkDigestMismatchError) =>
        e instanceof ChunkDigestMismatchError && e.chunk === 7 && e.attempts === 3 &&
        /Chunk 7 of big\.bin/.test(e.message),
    );
  } finally {
    await served.close();
  }
});

test("lendChunks fetches through fetchChunkWith, holds each body until its async write settled, refetches a damaged one", async () => {
  const honest = memoryFileCatalog({ "big.bin": big }, { chunkSize: CHUNK });
  let damage = 1;
  const flaky: FileCatalog = {
    list: () => honest.list(),
    open: async (name) => {
      const file = (await honest.open(name))!;
      return {
        ...file,
        source: {
          chunkCount: file.source.chunkCount,
          getChunk: async (index) => {
            const bytes = (await file.source.getChunk(index)).slice();
            if (index === 11 && damage > 0) {
              damage--;
              bytes[9]! ^= 4;
            }
            return bytes;
          },
        },
      };
    },
  };
  const served = serveCatalog(flaky);
  try {
    const calls = { owned: 0, lent: 0 };
    /** Chunks whose fetchChunkWith has not settled: their bodies are still lent. */
    const lentNow = new Map<number, number>();
    const spied = [served.connect(), served.connect()].map((client) => {
      const fetchChunk = client.fetchChunk.bind(client);
      const fetchChunkWith = client.fetchChunkWith.bind(client);
      client.fetchChunk = (...args) => (calls.owned++, fetchChunk(...args));
      client.fetchChunkWith = ((...args: Parameters<typeof fetchChunkWith>) => {
        calls.lent++;
        const index = args[1];
        lentNow.set(index, (lentNow.get(index) ?? 0) + 1);
        return fetchChunkWith(...args).finally(() => lentNow.set(index, lentNow.get(index)! - 1));
      }) as typeof client.fetchChunkWith;
      return client;
    });
    const whole = new Uint8Array(big.byteLength);
    const result = await downloadFile({
      name: "big.bin",
      connections: spied,
      writeOrder: "arrival",
      lendChunks: true,
      write: async (chunk, index, offset) => {
        await settle(); // an asynchronous write: other fetches settle meanwhile
        assert.ok(lentNow.get(index)! > 0, `chunk ${index}'s body was taken back before its write`);
        whole.set(chunk, offset);
      },
    });
    assert.equal(calls.owned, 0);
    assert.equal(calls.lent, 52, "51 chunks and one refetch, all lent");
    assert.equal(result.badChunks, 1);
    assert.deepEqual(whole, big);
  } finally {
    await served.close();
  }
});

test("maxWrites runs up to that many writes at once in arrival order, each chunk written once", async () => {
  const served = serveCatalog(memoryFileCatalog({ "big.bin": big }, { chunkSize: CHUNK }));
  try {
    const whole = new Uint8Array(big.byteLength);
    const writes: number[] = [];
    let running = 0;
    let most = 0;
    const result = await downloadFile({
      name: "big.bin",
      connections: [served.connect(), served.connect()],
      writeOrder: "arrival",
      lendChunks: true,
      maxWrites: 3,
      write: async (chunk, index, offset) => {
        most = Math.max(most, ++running);
        writes.push(index);
        const copy = chunk.slice(); // read while lent, as a file write does
        await settle();
        whole.set(copy, offset);
        running--;
      },
    });
    assert.equal(most, 3, "three writes overlapped, never more");
    assert.deepEqual(writes.toSorted((a, b) => a - b), range(0, 51));
    assert.equal(result.chunksFetched, 51);
    assert.deepEqual(whole, big);
    // Index order keeps one write at a time whatever maxWrites says (an appending sink).
    running = 0;
    most = 0;
    const order: number[] = [];
    await downloadFile({
      name: "big.bin",
      connections: [served.connect(), served.connect()],
      maxWrites: 3,
      write: async (_chunk, index) => {
        most = Math.max(most, ++running);
        order.push(index);
        await settle();
        running--;
      },
    });
    assert.equal(most, 1);
    assert.deepEqual(order, range(0, 51));
    await assert.rejects(
      downloadFile({ name: "big.bin", connections: [served.connect()], maxWrites: 0, write() {} }),
      /maxWrites must be an integer/,
    );
  } finally {
    await served.close();
  }
});

test("lent bodies waiting for slow writes hold back the fetching at inFlight plus one per connection", async () => {
  const served = serveCatalog(memoryFileCatalog({ "big.bin": big }, { chunkSize: CHUNK }));
  try {
    let fetches = 0;
    let writes = 0;
    let most = 0;
    const counted = [served.connect(), served.connect()].map((client) => {
      const fetchChunkWith = client.fetchChunkWith.bind(client);
      client.fetchChunkWith = ((...args: Parameters<typeof fetchChunkWith>) => {
        most = Math.max(most, ++fetches - writes);
        return fetchChunkWith(...args);
      }) as typeof client.fetchChunkWith;
      return client;
    });
    const whole = new Uint8Array(big.byteLength);
    const result = await downloadFile({
      name: "big.bin",
      connections: counted,
      inFlight: 4,
      writeOrder: "arrival",
      lendChunks: true,
      write: async (chunk, _index, offset) => {
        const copy = chunk.slice();
        for (let i = 0; i < 20; i++) await settle(); // far slower than a fetch
        whole.set(copy, offset);
        writes++;
      },
    });
    // Requested or held, not yet written: 4 in flight + one per connection (2), never the
    // 2 × inFlight of owned chunks.
    assert.equal(most, 6);
    assert.equal(result.chunksFetched, 51);
    assert.deepEqual(whole, big);
  } finally {
    await served.close();
  }
});

test("a failed write ends the download only once the writes already running have finished and been reported", async () => {
  const served = serveCatalog(memoryFileCatalog({ "big.bin": big }, { chunkSize: CHUNK }));
  try {
    let running = 0;
    let failedAt = -1;
    let startedAfterFailure = 0;
    let ended = false;
    const finished: number[] = [];
    const reported: number[] = [];
    const download = downloadFile({
      name: "big.bin",
      connections: [served.connect(), served.connect()],
      writeOrder: "arrival",
      lendChunks: true,
      maxWrites: 3,
      write: async (_chunk, index) => {
        if (failedAt >= 0) startedAfterFailure++;
        running++;
        if (running === 3 && failedAt < 0) {
          failedAt = index;
          running--;
          throw new Error(`disk full at chunk ${index}`);
        }
        // The others finish later than the failure: the download must wait for them.
        await settle();
        await settle();
        assert.equal(ended, false, `chunk ${index}'s write finished after the download ended`);
        finished.push(index);
        running--;
      },
      onChunkWritten: (index) => reported.push(index),
    }).finally(() => (ended = true));
    await assert.rejects(download, /disk full at chunk/);
    assert.ok(failedAt >= 0);
    assert.equal(running, 0, "no write was still running when the download ended");
    assert.equal(startedAfterFailure, 0, "no write started after the failure");
    assert.ok(finished.length >= 2, "the writes running beside the failed one finished");
    assert.deepEqual(reported, finished, "every finished write was reported, no other");
  } finally {
    await served.close();
  }
});

test("a write may transfer (detach) an owned chunk's buffer: progress still counts its bytes", async () => {
  const served = serveCatalog(memoryFileCatalog({ "big.bin": big }, { chunkSize: CHUNK }));
  try {
    // Each chunk in a buffer of its own, as a browser WebSocket message delivers a chunk body.
    const owning = [served.connect(), served.connect()].map((client) => {
      const fetchChunk = client.fetchChunk.bind(client);
      client.fetchChunk = async (...args) => (await fetchChunk(...args)).slice();
      return client;
    });
    const whole = new Uint8Array(big.byteLength);
    let bytesWritten = 0;
    let detached = 0;
    const result = await downloadFile({
      name: "big.bin",
      connections: owning,
      writeOrder: "arrival",
      write: (chunk, _index, offset) => {
        assert.equal(chunk.byteOffset, 0);
        assert.equal(chunk.byteLength, chunk.buffer.byteLength);
        // What the web demo's OPFS sink does: the buffer moves to its writer worker.
        const moved = structuredClone(chunk.buffer, { transfer: [chunk.buffer] });
        assert.equal(chunk.byteLength, 0);
        detached++;
        whole.set(new Uint8Array(moved), offset);
      },
      onProgress: (progress) => void (bytesWritten = progress.bytesWritten),
    });
    assert.equal(detached, 51);
    assert.equal(bytesWritten, big.byteLength);
    assert.equal(result.bytesFetched, big.byteLength);
    assert.deepEqual(whole, big);
  } finally {
    await served.close();
  }
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

test("chunks lost with a dying connection are retried on the others", async () => {
  const served = serveCatalog(memoryFileCatalog({ "big.bin": big }, { chunkSize: CHUNK }));
  try {
    const doomed = served.connect();
    const out = collector();
    const result = await downloadFile({
      name: "big.bin",
      connections: [doomed, served.connect()],
      inFlight: 8,
      write: out.write,
      onProgress: (p) => {
        if (p.chunksWritten === 10) doomed.close(new Error("cable cut"));
      },
    });
    assert.deepEqual(out.bytes(), big);
    assert.equal(result.sha256, result.file.sha256);
    assert.ok(result.retries > 0, "chunks in flight on the closed connection were retried");
  } finally {
    await served.close();
  }
});

test("from a server without chunk digests the whole file is verified by reading it back", async () => {
  const honest = memoryFileCatalog({ "big.bin": big }, { chunkSize: CHUNK });
  const liar: FileCatalog = {
    list: () => honest.list(),
    open: async (name) => {
      const file = await honest.open(name);
      return file && { ...file, info: { ...file.info, sha256: "0".repeat(64) } };
    },
  };
  const legacy = (catalog: FileCatalog) => {
    const streams = new OneForOneStreamManager();
    const { list, open, release } = fileServiceImplementation(catalog, streams);
    // An older server: the service without its digests method.
    const { list: l, open: o, release: r } = fileService.methods;
    const older = defineService(fileService.name, { list: l, open: o, release: r });
    const router = new ServiceRouter().serve(older, { list, open, release });
    const server = new TransportServer({ rpcHandler: router, streamManager: streams });
    return {
      connect: () => {
        const [a, b] = memorySocketPair();
        server.accept(b);
        return new TransportClient(a);
      },
      close: () => server.close(),
    };
  };
  for (const [catalog, ok] of [[honest, true], [liar, false]] as const) {
    const served = legacy(catalog);
    try {
      const out = collector();
      const run = downloadFile({
        name: "big.bin",
        connections: [served.connect()],
        write: out.write,
        readWritten: (index) => out.chunks[index]!,
      });
      if (ok) {
        const result = await run;
        assert.equal(result.chunkDigests, false);
        assert.equal(result.sha256, result.file.sha256);
        assert.deepEqual(out.bytes(), big);
      } else {
        await assert.rejects(
          run,
          (e: ChecksumMismatchError) =>
            e instanceof ChecksumMismatchError && e.expected === "0".repeat(64),
        );
      }
    } finally {
      await served.close();
    }
  }
  // A server whose digests are not of the file it opened is refused before any chunk.
  const served = serveCatalog(liar);
  try {
    await assert.rejects(
      downloadFile({ name: "big.bin", connections: [served.connect()], write: () => {} }),
      (e: FileChangedError) => e instanceof FileChangedError && /digests are of/.test(e.message),
    );
    const result = await downloadFile({
      name: "big.bin",
      connections: [served.connect()],
      verify: false,
      write: () => {},
    });
    assert.equal(result.sha256, undefined);
  } finally {
    await served.close();
  }
});

test("an empty file downloads as nothing and verifies; a failing write fails the download", async () => {
  const served = serveCatalog(
    memoryFileCatalog({ "empty": new Uint8Array(), "big.bin": big }, { chunkSize: CHUNK }),
  );
  try {
    const result = await downloadFile({
      name: "empty",
      connections: [served.connect()],
      write: () => assert.fail("nothing to write"),
    });
    assert.equal(result.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    await assert.rejects(
      downloadFile({
        name: "big.bin",
        connections: [served.connect()],
        write: (_chunk, index) => {
          if (index === 3) throw new Error("disk full");
        },
      }),
      /disk full/,
    );
    await assert.rejects(
      downloadFile({ name: "big.bin", connections: [], write: () => {} }),
      /non-empty array/,
    );
  } finally {
    await served.close();
  }
});

test("downloadFileFromPool spreads the download over exclusive leases and releases them", async () => {
  const network = memoryNetwork();
  const streams = new OneForOneStreamManager();
  const catalog = memoryFileCatalog({ "big.bin": big }, { chunkSize: CHUNK });
  const router = new ServiceRouter().serve(
    fileService,
    fileServiceImplementation(catalog, streams),
  );
  const server = new TransportServer({ rpcHandler: router, streamManager: streams });
  await server.listen(network.listen);
  const pool = new ConnectionPool<TransportClient>({
    connector: transportConnector(() => network.connect),
    maxPerRoute: 3,
    maxStreamsPerConnection: 1,
  });
  try {
    const out = collector();
    const result = await downloadFileFromPool({
      pool,
      route: "memory",
      connections: 3,
      inFlight: 6,
      name: "big.bin",
      write: out.write,
    });
    assert.deepEqual(out.bytes(), big);
    assert.equal(result.sha256, result.file.sha256);
    assert.equal(pool.stats().total.leased, 0, "every lease was released");
    assert.equal(server.connections.size, 3, "three connections carried it");
  } finally {
    await pool.close();
    await server.close();
  }
});
