/**
 * Stream ids cannot be enumerated: another connection asking for every id within ±10 000 of a live
 * stream's id, and for the id itself, reads nothing, and each refusal has exactly the text an id
 * that never existed gets. The owner still reads its stream afterwards.
 *
 * Figure printed: ids tried, successful reads (must be 0), distinct refusal texts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TransportClient } from "../../src/client/transport-client.ts";
import { RemoteError } from "../../src/errors.ts";
import { canonicalInt64 } from "../../src/protocol/int64.ts";
import type { Int64 } from "../../src/protocol/messages.ts";
import { OneForOneStreamManager } from "../../src/responder/one-for-one-stream-manager.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { memoryNetwork } from "../helpers/memory-socket.ts";
import { pattern, readAll } from "../helpers/engine-fixtures.ts";

const SPAN = 10_000;
const BATCH = 2_000;

test(`another connection enumerating ±${SPAN} ids around a live stream reads nothing`, async () => {
  const streams = new OneForOneStreamManager();
  const chunks = [pattern(100, 1), pattern(100, 2)];
  const server = new TransportServer({
    rpcHandler: {
      // Any RPC registers a random-access stream for the caller and answers its id (8 bytes BE).
      receive(client) {
        const id = streams.registerStream(client, {
          chunkCount: chunks.length,
          getChunk: (index: number) => chunks[index]!,
        });
        const reply = new Uint8Array(8);
        new DataView(reply.buffer).setBigInt64(0, BigInt(id));
        return reply;
      },
    },
    streamManager: streams,
  });
  const network = memoryNetwork();
  const listener = await server.listen(network.listen);
  const owner = await TransportClient.connect(network.connect);
  const prober = await TransportClient.connect(network.connect);

  const reply = await owner.sendRpc(new Uint8Array(0));
  const id = new DataView(reply.buffer, reply.byteOffset).getBigInt64(0);
  assert.ok(streams.has(canonicalInt64(id, "id")));

  /** The refusal text with the id asked for replaced, so texts for different ids compare. */
  const shape = (error: unknown, asked: Int64 | string): string => {
    assert.ok(error instanceof RemoteError, String(error));
    return error.remoteMessage.split(String(asked)).join("<id>");
  };
  const texts = new Set<string>();
  let reads = 0;
  let tried = 0;
  for (let from = -SPAN; from <= SPAN; from += BATCH) {
    const batch: Promise<void>[] = [];
    for (let offset = from; offset < Math.min(from + BATCH, SPAN + 1); offset++) {
      const candidate = canonicalInt64(id + BigInt(offset), "candidate");
      tried++;
      batch.push(
        prober.fetchChunk(candidate, 0).then(
          () => void reads++,
          (error) => void texts.add(shape(error, candidate)),
        ),
      );
    }
    await Promise.all(batch);
  }
  // The id itself, as a chunk-as-stream request too.
  const asStream = OneForOneStreamManager.streamChunkId(canonicalInt64(id, "id"), 1);
  const streamText = await prober.stream(asStream).then(
    () => "read",
    (error) => shape(error, asStream),
  );

  // What an id that never existed gets (0 and 2^62 + 12345 are not the live id: checked).
  const never = canonicalInt64(2n ** 62n + 12_345n, "never");
  assert.notEqual(BigInt(never), id);
  const neverChunk = await prober.fetchChunk(never, 0).then(
    () => "read",
    (error) => shape(error, never),
  );
  const neverStreamId = OneForOneStreamManager.streamChunkId(never, 1);
  const neverStream = await prober.stream(neverStreamId).then(
    () => "read",
    (error) => shape(error, neverStreamId),
  );
  console.log(
    `stream-id enumeration: ${tried} ids tried (±${SPAN} and the live id), ${reads} successful ` +
      `reads, ${texts.size} distinct refusal text(s); chunk-as-stream of the live id: ` +
      `${streamText === neverStream ? "same refusal as a never-existed id" : streamText}`,
  );

  assert.equal(tried, 2 * SPAN + 1);
  assert.equal(reads, 0, "no read succeeded");
  assert.deepEqual([...texts], [neverChunk], "every refusal reads exactly like a never-existed id");
  assert.equal(streamText, neverStream);
  assert.match(neverStream, /^Stream '<id>' was not found\.$/);
  // The owner still reads its stream: probing consumed and released nothing.
  assert.deepEqual(await owner.fetchChunk(canonicalInt64(id, "id"), 0), chunks[0]);
  assert.deepEqual(await readAll(await owner.stream(asStream)), chunks[1]);

  await owner.close();
  await prober.close();
  await listener.close();
  await server.close();
});
