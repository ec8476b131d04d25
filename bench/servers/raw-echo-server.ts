/**
 * Baseline server for RPCs: echoes every length-prefixed frame back unchanged, in order. The
 * frames parsed from one read are written under one `cork()`, so pipelined requests go back in
 * as few syscalls as Node allows — a deliberately strong baseline.
 *
 * @module
 */

import { LengthPrefixedReader } from "../baselines/length-prefixed-frames.ts";
import { startNetBenchServer } from "./net-bench-server.ts";
import type { RunningServer } from "./running-server.ts";

export function startRawEchoServer(): Promise<RunningServer> {
  return startNetBenchServer((socket) => {
    const reader = new LengthPrefixedReader((frame) => socket.write(frame));
    socket.on("data", (chunk: Buffer) => {
      socket.cork();
      reader.push(chunk);
      socket.uncork();
    });
  });
}
