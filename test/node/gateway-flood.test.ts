/**
 * The gateway flood of issue 15 on real sockets, with the gateway's default caps: a browser sends
 * 20 000 ChunkFetchRequests for 1 MiB chunks packed into ONE WebSocket message and never reads a
 * reply (before the fix: RSS 190 MiB → 4.2 GiB, then 4502). Now the requests are admitted one at
 * a time against `maxInFlightRequests`, the session ends with 4429 (slow consumer), and this
 * process (backend, gateway and browser together) grows by at most 64 MiB of RSS.
 *
 * The slow-consumer deadline runs on a FakeClock moved 1 s per 20 ms of real time, so the session
 * ends as soon as the page's socket has stayed blocked for 3 s of the gateway's time, whatever the
 * machine's load.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { startNodeGateway } from "../../adapters/node/gateway.ts";
import { tcpListen } from "../../adapters/node/tcp.ts";
import { createInteropServer } from "../../interop/interop-handler.ts";
import { GatewayCloseCode } from "../../src/gateway/close-codes.ts";
import { defaultGatewayOptions } from "../../src/gateway/gateway-options.ts";
import { encodeMessage } from "../../src/protocol/encoder.ts";
import { FrameDecoder } from "../../src/protocol/decoder.ts";
import { type Message, MessageType } from "../../src/protocol/messages.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

const ORIGIN = "http://app.test";
const MiB = 1024 * 1024;

function oneMessage(messages: readonly Message[]): Uint8Array {
  const chunks = messages.flatMap((message) => encodeMessage(message));
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

describe("gateway flood (Node, real sockets)", () => {
  it("20 000 fetches of 1 MiB in one message, page not reading: 4429, RSS ≤ +64 MiB", async () => {
    const backend = createInteropServer();
    const { port } = (await backend.listen(tcpListen({ host: "127.0.0.1", port: 0 }))).address;
    const clock = new FakeClock();
    const running = await startNodeGateway({
      targets: { interop: { host: "127.0.0.1", port } },
      allowedOrigins: [ORIGIN],
      // Default caps; only the slow-consumer deadline is short, to end the test sooner.
      slowConsumerTimeoutMs: 3_000,
      backend: { heartbeat: false },
      clock,
    });
    const ws = new WebSocket(`${running.address.url}gateway/interop`, { origin: ORIGIN });
    try {
      const replies: Message[] = [];
      const decoder = new FrameDecoder({
        message: (message) => replies.push(message),
        body() {},
        bodyEnd() {},
      });
      ws.on("message", (data: Buffer) => decoder.push(new Uint8Array(data)));
      const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
      await new Promise((resolve, reject) => {
        ws.once("open", resolve);
        ws.once("error", reject);
      });
      const count = 20_000;
      ws.send(
        oneMessage([{
          type: MessageType.RpcRequest,
          requestId: 1,
          body: new TextEncoder().encode(`open:${count}:${MiB}`),
        }]),
      );
      while (replies.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const reply = replies[0]!;
      assert.equal(reply.type, MessageType.RpcResponse);
      const streamId = new DataView(reply.body.buffer, reply.body.byteOffset).getBigInt64(0);

      (globalThis as { gc?: () => void }).gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 20);
      ws.pause(); // the page stops reading
      const flood = oneMessage(
        Array.from({ length: count }, (_, chunkIndex) => ({
          type: MessageType.ChunkFetchRequest,
          streamId,
          chunkIndex,
        })),
      );
      ws.send(flood);
      const started = Date.now();
      const fakeStart = clock.now();
      for (let step = 0; running.gateway.stats().sessions.open > 0 && step < 3_000; step++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        clock.advance(1_000);
      }
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      const stats = running.gateway.stats();
      ws.resume(); // read what was sent, then the close frame
      const code = await closed;
      const growth = (peak - before) / MiB;
      console.log(
        `gateway flood: one ${flood.byteLength}-byte message of ${count} fetches (1 MiB chunks), ` +
          `page not reading: closed with ${code} after ${Date.now() - started} ms ` +
          `(${clock.now() - fakeStart} ms on the gateway's clock); RSS ` +
          `${(before / MiB).toFixed(0)} → peak ${(peak / MiB).toFixed(0)} MiB ` +
          `(+${growth.toFixed(1)} MiB); ${stats.bytes.toBrowsers} bytes sent to the page ` +
          `(maxInFlightRequests ${defaultGatewayOptions.maxInFlightRequests})`,
      );
      assert.equal(code, GatewayCloseCode.SlowConsumer);
      // The close handshake completes although the gateway had paused the page's socket (it used
      // to wait for ws's 30 s close timeout); normally well under a second, 20 s is only slack.
      assert.ok(Date.now() - started < 20_000, `closed ${Date.now() - started} ms after the flood`);
      assert.equal(stats.refusals["slow-consumer"], 1);
      assert.ok(growth <= 64, `RSS grew by ${growth.toFixed(1)} MiB`);
    } finally {
      ws.terminate();
      await running.close();
      await backend.close();
    }
  });
});
