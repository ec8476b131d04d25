/**
 * Baseline server for bulk transfer: a client sends `count:uint32 BE, size:uint32 BE`; the server
 * writes `count` preallocated buffers of `size` bytes, honouring backpressure (it stops when
 * `write` returns false and resumes on `drain`). Requests on one connection are served in order.
 * No framing, no per-chunk request: the most a Node TCP socket moves over loopback.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import net from "node:net";
import { benchHost, type RunningServer } from "./running-server.ts";

import { blastRequestBytes, maxBlastBufferBytes } from "./raw-blast-protocol.ts";

export { blastRequestBytes, maxBlastBufferBytes } from "./raw-blast-protocol.ts";

export async function startRawBlastServer(): Promise<RunningServer> {
  const buffers = new Map<number, Buffer>();
  const bufferOf = (size: number) => {
    let buffer = buffers.get(size);
    if (buffer === undefined) {
      buffer = Buffer.alloc(size, 0x5a);
      buffers.set(size, buffer);
    }
    return buffer;
  };
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    const queue: Array<{ count: number; size: number }> = [];
    let request: Buffer = Buffer.alloc(0);
    let busy = false;
    const next = () => {
      const job = queue.shift();
      if (job === undefined) {
        busy = false;
        return;
      }
      busy = true;
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
        next();
      };
      pump();
    };
    socket.on("data", (chunk: Buffer) => {
      request = request.byteLength === 0 ? chunk : Buffer.concat([request, chunk]);
      while (request.byteLength >= blastRequestBytes) {
        const count = request.readUInt32BE(0);
        const size = request.readUInt32BE(4);
        request = request.subarray(blastRequestBytes);
        if (size === 0 || size > maxBlastBufferBytes) {
          socket.destroy(
            new Error(`raw blast: buffer size ${size} is outside 1..${maxBlastBufferBytes}`),
          );
          return;
        }
        queue.push({ count, size });
      }
      if (!busy) next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, benchHost, () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
