/**
 * The server-wide stream cap (`maxStreams`) beside the per-owner one: a refused registration is a
 * `LimitError` naming the limit; the file service's `open` checks both caps before its catalog
 * opens anything (so a refused open never takes a descriptor, however many opens are in flight)
 * and answers with a failure reply naming the limit; the server keeps serving.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TransportClient } from "../../src/client/transport-client.ts";
import { LimitError, type RemoteError } from "../../src/errors.ts";
import type { CatalogFile, FileCatalog } from "../../src/files/file-catalog.ts";
import { memoryFileCatalog } from "../../src/files/file-catalog.ts";
import { fileService } from "../../src/files/file-service.ts";
import { fileServiceImplementation } from "../../src/files/file-service-handler.ts";
import { defaultLimits } from "../../src/limits.ts";
import { serviceClient, ServiceError, ServiceRouter } from "../../src/rpc/mod.ts";
import { OneForOneStreamManager } from "../../src/responder/one-for-one-stream-manager.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { settle } from "../helpers/fake-clock.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";
import { bytes, fakeClient } from "./stream-manager-fixtures.ts";

const TOTAL_REFUSAL = /the server already has 3 streams registered, the limit \(maxStreams 3\)/;

test("maxStreams caps registrations over every owner; a release makes room", () => {
  assert.ok(defaultLimits.maxStreams <= 512, "the default stays well below 1 024 descriptors");
  const manager = new OneForOneStreamManager({ maxStreams: 3, maxStreamsPerOwner: 2 });
  const a = fakeClient("a");
  const b = fakeClient("b");
  const first = manager.registerStream(a, [bytes(1)]);
  manager.registerStream(a, [bytes(2)]);
  manager.registerStream(b, [bytes(3)]);
  let closed = 0;
  const source = { chunkCount: 1, getChunk: () => bytes(4), close: () => closed++ };
  assert.throws(
    () => manager.registerStream(b, source),
    (error: unknown) => error instanceof LimitError && TOTAL_REFUSAL.test(error.message),
  );
  assert.equal(closed, 0, "a refused source is not touched: its owner closes it");
  assert.equal(manager.stats().streams, 3);
  assert.equal(manager.releaseStream(first), true);
  manager.registerStream(b, source);
  assert.throws(() => manager.registerStream(fakeClient("c"), [bytes(5)]), TOTAL_REFUSAL);
  // Reservations count: an owner with 1 stream and 1 open under way is at its cap of 2.
  assert.throws(() => manager.assertCanRegister(b, 1, 0), /maxStreamsPerOwner 2/);
  manager.releaseAll();
  assert.doesNotThrow(() => manager.assertCanRegister(a, 1, 2));
  assert.throws(() => manager.assertCanRegister(a, 0, 3), /maxStreams 3/);
  assert.throws(() => new OneForOneStreamManager({ maxStreams: 0 }), /Invalid maxStreams/);
});

/** A catalog that counts what it holds open (a descriptor per open, as a folder catalog). */
function countingCatalog(gate: Promise<void>) {
  const inner = memoryFileCatalog({ "a.bin": new Uint8Array(10) }, { chunkSize: 4 });
  const state = { open: 0, opened: 0, maxOpen: 0 };
  const catalog: FileCatalog = {
    list: () => inner.list(),
    open: async (name) => {
      await gate; // every open in flight at once, as a flood of pipelined RPCs gets
      const file = (await inner.open(name)) as CatalogFile;
      state.open++;
      state.opened++;
      state.maxOpen = Math.max(state.maxOpen, state.open);
      let closed = false;
      return {
        info: file.info,
        digests: file.digests,
        source: {
          chunkCount: file.source.chunkCount,
          getChunk: (index) => file.source.getChunk(index),
          close: () => {
            if (!closed) state.open--;
            closed = true;
          },
        },
      };
    },
  };
  return { catalog, state };
}

test("file-service opens beyond maxStreams fail with the limit and never open a file", async () => {
  let go!: () => void;
  const { catalog, state } = countingCatalog(new Promise<void>((resolve) => go = resolve));
  const streams = new OneForOneStreamManager({ maxStreams: 5, maxStreamsPerOwner: 3 });
  const router = new ServiceRouter().serve(
    fileService,
    fileServiceImplementation(catalog, streams),
  );
  const server = new TransportServer({ rpcHandler: router, streamManager: streams });
  const clients: TransportClient[] = [];
  const connect = () => {
    const [a, b] = memorySocketPair();
    server.accept(b);
    const client = new TransportClient(a);
    clients.push(client);
    return serviceClient(fileService, client);
  };
  try {
    const attackers = [connect(), connect()];
    const opens = attackers.flatMap((files) =>
      Array.from({ length: 20 }, () => files.open({ name: "a.bin" }).then(() => "ok", (e) => e))
    );
    go();
    const outcomes = await Promise.all(opens);
    const ok = outcomes.filter((outcome) => outcome === "ok").length;
    // Per owner 3, total 5: 3 + 2 succeed; everything else is refused by name.
    assert.equal(ok, 5);
    for (const outcome of outcomes) {
      if (outcome === "ok") continue;
      assert.match(
        (outcome as RemoteError).remoteMessage,
        /\(maxStreamsPerOwner 3\)|\(maxStreams 5\)/,
      );
      assert.equal((outcome as RemoteError).remoteCode, "ERR_RPC_LIMIT");
    }
    console.log(`opens ${opens.length}: ${ok} granted, max files open ${state.maxOpen} (cap 5)`);
    assert.equal(state.opened, 5, "refused opens never reached the catalog");
    assert.ok(state.maxOpen <= 5);
    // Another client is still served: it lists, and opens once an attacker lets go.
    const other = connect();
    assert.equal((await other.list()).length, 1);
    await assert.rejects(other.open({ name: "a.bin" }), /maxStreams 5/);
    clients[0]!.close();
    // Its streams are released when the server sees the end: a few event-loop turns in memory.
    for (let turn = 0; turn < 100 && server.connections.size > 2; turn++) await settle();
    assert.equal(server.connections.size, 2, "the server saw the attacker leave");
    const opened = await other.open({ name: "a.bin" });
    assert.equal(typeof opened.streamId, "bigint");
  } finally {
    for (const client of clients) client.close();
    await server.close();
  }
  assert.equal(state.open, 0, "every open file was closed");
});

test("an open at the cap is refused synchronously, with no stack trace captured", async () => {
  const streams = new OneForOneStreamManager({ maxStreams: 1 });
  const { catalog } = countingCatalog(Promise.resolve());
  const files = fileServiceImplementation(catalog, streams);
  const client = fakeClient("a");
  const context = { client, service: fileService.name, method: "open" };
  await files.open({ name: "a.bin" }, context);
  // Refusing a flood of opens costs no promise and no stack trace per open: 20 000 of them must
  // not keep other clients waiting (test/node/reply-admission.test.ts).
  let refusal: unknown;
  try {
    void files.open({ name: "a.bin" }, context);
  } catch (error) {
    refusal = error;
  }
  assert.ok(refusal instanceof ServiceError, "thrown at once, not a rejected promise");
  assert.equal(refusal.serviceCode, "ERR_RPC_LIMIT");
  assert.match(refusal.message, /\(maxStreams 1\)/);
  if (typeof (Error as { stackTraceLimit?: number }).stackTraceLimit === "number") {
    assert.doesNotMatch(refusal.stack ?? "", /\n\s+at /, "no frames captured");
  }
  assert.equal(streams.registerRefusal(client), refusal.message);
});
