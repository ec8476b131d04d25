/**
 * Every case `npm run bench` knows, in the order they run. Add new cases here.
 *
 * @module
 */

import type { BenchCase } from "../harness/bench-case.ts";
import { chunkFetchCase } from "./chunk-fetch.ts";
import { chromiumWsChunkFetchCase } from "./chromium-ws-chunk-fetch.ts";
import { denoTcpChunkFetchCase } from "./deno-tcp-chunk-fetch.ts";
import { denoWsChunkFetchCase } from "./deno-ws-chunk-fetch.ts";
import { fileGetCase } from "./file-get.ts";
import { gatewayChromiumChunkFetchCase } from "./gateway-chromium-chunk-fetch.ts";
import { observabilityCostCase } from "./observability-cost.ts";
import { poolLeaseCase } from "./pool-lease.ts";
import { rpcEchoCase } from "./rpc-echo.ts";
import { rpcLatencyCase } from "./rpc-latency.ts";
import { saslAuthConfCase } from "./sasl-auth-conf.ts";
import { scaleCase } from "./scale.ts";
import { tlsChunkFetchCase } from "./tls-chunk-fetch.ts";
import { webDemoVsFetchCase } from "./web-demo-vs-fetch.ts";
import { wsChunkFetchNodeCase } from "./ws-chunk-fetch-node.ts";

export const allCases: readonly BenchCase[] = [
  chunkFetchCase,
  rpcEchoCase,
  rpcLatencyCase,
  poolLeaseCase,
  observabilityCostCase,
  wsChunkFetchNodeCase,
  tlsChunkFetchCase,
  saslAuthConfCase,
  scaleCase,
  denoTcpChunkFetchCase,
  denoWsChunkFetchCase,
  chromiumWsChunkFetchCase,
  gatewayChromiumChunkFetchCase,
  fileGetCase,
  webDemoVsFetchCase,
];
