/**
 * Baseline server for bulk transfer: a client sends `count:uint32 BE, size:uint32 BE`; the server
 * writes `count` preallocated buffers of `size` bytes, honouring backpressure (it stops when
 * `write` returns false and resumes on `drain`). Requests on one connection are served in order.
 * No framing, no per-chunk request: the most a Node TCP socket moves over loopback.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { AddressInfo, Socket } from "node:net";
import tls from "node:tls";
import { benchCertificate } from "./bench-certificate.ts";
import { blastBufferCache, type BlastJob, BlastJobQueue } from "./blast-jobs.ts";
import { startNetBenchServer } from "./net-bench-server.ts";
import { blastRequestBytes, blastSizeProblem, decodeBlastRequest } from "./raw-blast-protocol.ts";
import { benchHost, type RunningServer } from "./running-server.ts";

export { blastRequestBytes, maxBlastBufferBytes } from "./raw-blast-protocol.ts";

export function startRawBlastServer(): Promise<RunningServer> {
  return startNetBenchServer(blastServing());
}

/**
 * The same blast over TLS (`tls.createServer`, the process's self-signed certificate): what Node's
 * own TLS moves when nothing but the blast runs on top.
 */
export async function startRawTlsBlastServer(): Promise<RunningServer> {
  const { certPem, keyPem } = await benchCertificate();
  const serve = blastServing();
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({ cert: certPem, key: keyPem, noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    serve(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, benchHost, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Serves blast requests on one socket (plain or TLS). */
function blastServing(): (socket: Socket) => void {
  const bufferOf = blastBufferCache((size) => Buffer.alloc(size));
  return (socket) => {
    const jobs = new BlastJobQueue((job, done) => {
      const buffer = bufferOf(job.size);
      let sent = 0;
      const pump = () => {
        while (sent < job.count) {
          sent++;
          if (!socket.write(buffer)) {
            socket.once("drain", pump);
            return;
          }
        }
        done();
      };
      pump();
    });
    let request: Buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      request = request.byteLength === 0 ? chunk : Buffer.concat([request, chunk]);
      const received: BlastJob[] = [];
      while (request.byteLength >= blastRequestBytes) {
        const job = decodeBlastRequest(request);
        request = request.subarray(blastRequestBytes);
        const problem = blastSizeProblem(job.size);
        if (problem !== undefined) {
          socket.destroy(new Error(`raw blast: ${problem}`));
          return;
        }
        received.push(job);
      }
      for (const job of received) jobs.push(job);
    });
  };
}
