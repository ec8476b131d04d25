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
import { OneForOneStreamManager } from "../../src/server/one-for-one-stream-manager.ts";
import { serviceClient, ServiceRouter } from "../../src/rpc/mod.ts";
import {
  ChecksumMismatchError,
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

test("a download over three connections writes in order, spreads chunks, verifies SHA-256", async () => {
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
    assert.deepEqual(out.order, Array.from({ length: 51 }, (_, i) => i));
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
    // The download released the streams it opened.
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(served.streams.stats().streams, 0);
  } finally {
    await served.close();
  }
});

test("an aborted download leaves a prefix; resuming from it completes and verifies", async () => {
  const served = serveCatalog(memoryFileCatalog({ "big.bin": big }, { chunkSize: CHUNK }));
  try {
    const out = collector();
    const controller = new AbortController();
    let written = 0;
    let recorded:
      | { sha256: string; size: number; chunkSize: number; chunkCount: number }
      | undefined;
    await assert.rejects(
      downloadFile({
        name: "big.bin",
        connections: [served.connect(), served.connect()],
        inFlight: 4,
        signal: controller.signal,
        write: out.write,
        onOpen: (file) => void (recorded = file),
        onProgress: (p) => {
          written = p.chunksWritten;
          if (p.chunksWritten === 20) controller.abort(new Error("interrupted"));
        },
      }),
      /interrupted/,
    );
    assert.equal(written, 20);
    const prefix = out.chunks.slice(0, 20);
    const resumed = collector();
    const result = await downloadFile({
      name: "big.bin",
      connections: [served.connect()],
      startChunk: written,
      expect: recorded!,
      readWritten: (index) => prefix[index]!,
      write: resumed.write,
    });
    assert.equal(result.chunksFetched, 31);
    assert.deepEqual(resumed.order[0], 20);
    for (let i = 0; i < 20; i++) resumed.chunks[i] = prefix[i]!;
    assert.deepEqual(resumed.bytes(), big);
    assert.equal(result.sha256, recorded!.sha256);

    const other = memoryFileCatalog({ "big.bin": pattern(50_123, 8) }, { chunkSize: CHUNK });
    const changed = serveCatalog(other);
    try {
      await assert.rejects(
        downloadFile({
          name: "big.bin",
          connections: [changed.connect()],
          startChunk: 20,
          expect: recorded!,
          readWritten: (index) => prefix[index]!,
          write: () => {},
        }),
        (e: FileChangedError) => e instanceof FileChangedError && /sha256/.test(e.message),
      );
    } finally {
      await changed.close();
    }
  } finally {
    await served.close();
  }
});

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

test("a file whose bytes do not match its announced SHA-256 fails with ChecksumMismatchError", async () => {
  const honest = memoryFileCatalog({ "big.bin": big }, { chunkSize: CHUNK });
  const liar: FileCatalog = {
    list: () => honest.list(),
    open: async (name) => {
      const file = await honest.open(name);
      return file && { ...file, info: { ...file.info, sha256: "0".repeat(64) } };
    },
  };
  const served = serveCatalog(liar);
  try {
    await assert.rejects(
      downloadFile({ name: "big.bin", connections: [served.connect()], write: () => {} }),
      (e: ChecksumMismatchError) =>
        e instanceof ChecksumMismatchError && e.expected === "0".repeat(64),
    );
    // Without verification the same bytes are accepted.
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
