/**
 * Baseline server for bulk transfer over WebSocket: a `ws` server (compression off, as Ferry's
 * listener) where a client sends one binary message `count:uint32 BE, size:uint32 BE` and the
 * server sends `count` binary messages of one preallocated `size`-byte buffer, honouring
 * backpressure: it sends while `bufferedAmount` is under the high-water mark and otherwise resumes
 * from the send callback of the last message (called once `ws` has handed it to the socket).
 * Requests on one connection are served in order.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { type WebSocket, WebSocketServer } from "ws";
import { blastBufferCache, BlastJobQueue } from "./blast-jobs.ts";
import {
  blastRequestBytes,
  blastSizeProblem,
  decodeBlastRequest,
  webSocketHighWaterMark as highWaterMark,
} from "./raw-blast-protocol.ts";
import { benchHost, type RunningServer } from "./running-server.ts";

function serve(ws: WebSocket, bufferOf: (size: number) => Buffer): void {
  const jobs = new BlastJobQueue((job, done) => {
    const buffer = bufferOf(job.size);
    let sent = 0;
    const pump = () => {
      while (sent < job.count) {
        sent++;
        if (ws.readyState !== ws.OPEN) return;
        const last = sent === job.count;
        if (last) {
          ws.send(buffer, { binary: true }, () => done());
          return;
        }
        if (ws.bufferedAmount + buffer.byteLength >= highWaterMark) {
          ws.send(buffer, { binary: true }, pump);
          return;
        }
        ws.send(buffer, { binary: true });
      }
    };
    pump();
  });
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    if (!isBinary || data.byteLength !== blastRequestBytes) {
      ws.close(1003, "raw ws blast: expected an 8-byte binary request");
      return;
    }
    const job = decodeBlastRequest(data);
    const problem = blastSizeProblem(job.size);
    if (problem !== undefined) {
      ws.close(1008, `raw ws blast: ${problem}`);
      return;
    }
    jobs.push(job);
  });
  ws.on("error", () => ws.terminate());
}

export async function startRawWebSocketBlastServer(): Promise<RunningServer> {
  const bufferOf = blastBufferCache((size) => Buffer.alloc(size));
  const server = new WebSocketServer({ host: benchHost, port: 0, perMessageDeflate: false });
  server.on("connection", (ws) => {
    ws.binaryType = "nodebuffer";
    serve(ws, bufferOf);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.once("listening", () => resolve());
  });
  const address = server.address();
  if (typeof address !== "object" || address === null) {
    throw new Error(`raw ws blast: unexpected listen address ${String(address)}`);
  }
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}
