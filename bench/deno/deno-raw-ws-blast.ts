/**
 * The raw WebSocket blast in Deno: `Deno.serve` + `Deno.upgradeWebSocket`. A client sends one
 * binary message `count:uint32 BE, size:uint32 BE`; the server sends `count` binary messages of one
 * preallocated `size`-byte buffer, honouring backpressure the only way the WebSocket API allows:
 * it sends while `bufferedAmount` is at most the high-water mark, and otherwise polls it on a
 * 1 ms timer. Requests on one connection are served in order.
 *
 * @module
 */

import { blastBufferCache, BlastJobQueue } from "../servers/blast-jobs.ts";
import {
  blastRequestBytes,
  blastSizeProblem,
  decodeBlastRequest,
  webSocketHighWaterMark as highWaterMark,
} from "../servers/raw-blast-protocol.ts";
import { benchHost } from "../servers/running-server.ts";
import { denoScriptRuntime } from "./deno-script-runtime.ts";

const pollMs = 1;

function serve(ws: WebSocket, bufferOf: (size: number) => Uint8Array): void {
  ws.binaryType = "arraybuffer";
  const jobs = new BlastJobQueue((job, done) => {
    const buffer = bufferOf(job.size);
    let sent = 0;
    const pump = () => {
      while (sent < job.count) {
        if (ws.readyState !== WebSocket.OPEN) return;
        if (ws.bufferedAmount > highWaterMark) {
          setTimeout(pump, pollMs);
          return;
        }
        ws.send(buffer);
        sent++;
      }
      done();
    };
    pump();
  });
  ws.onmessage = (event: MessageEvent) => {
    const data = event.data;
    if (!(data instanceof ArrayBuffer) || data.byteLength !== blastRequestBytes) {
      ws.close(1003, "raw ws blast: expected an 8-byte binary request");
      return;
    }
    const job = decodeBlastRequest(new Uint8Array(data));
    const problem = blastSizeProblem(job.size);
    if (problem !== undefined) {
      ws.close(1008, `raw ws blast: ${problem}`);
      return;
    }
    jobs.push(job);
  };
}

/** Starts the blast on 127.0.0.1, an ephemeral port; resolves with the port once listening. */
export function startDenoRawWebSocketBlast(): Promise<{ port: number }> {
  const Deno = denoScriptRuntime();
  const bufferOf = blastBufferCache((size) => new Uint8Array(size));
  return new Promise((resolve) => {
    Deno.serve({
      hostname: benchHost,
      port: 0,
      onListen: (addr) => resolve({ port: addr.port }),
    }, (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      serve(socket, bufferOf);
      return response;
    });
  });
}
