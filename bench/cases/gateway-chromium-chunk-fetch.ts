/**
 * The gateway's cost for a browser: 1 GiB as 1 MiB chunks (16 in flight) into a directly launched
 * Chromium (`bench/harness/chromium-direct.ts`; Playwright would slow WebSocket reception ~7×),
 * both contestants in the same page, one after the other.
 *
 * - ferry-gateway-chromium: Chromium → `startNodeGateway` (in the bench process) → the bench Ferry
 *   service on TCP (server process). Token authentication, Origin check, per-message proxying and
 *   backpressure all on.
 * - ferry-ws-chromium: Chromium → the same Ferry service on Ferry's Node WebSocket listener
 *   (server process), no gateway.
 *
 * Both record `chromiumCpuSeconds` (CPU time of Chromium's process group during the run).
 *
 * @module
 */

import { type RunningGateway, startNodeGateway } from "../../adapters/node/gateway.ts";
import { type ChromiumDirect, sharedChromiumDirect } from "../harness/chromium-direct.ts";
import type { BenchCase, Contestant, OpenContestant } from "../harness/bench-case.ts";
import { chunkCount, chunksInFlight } from "./chunk-fetch-work.ts";

const page = "gateway-chunk-fetch-page.js";
const chromium = sharedChromiumDirect({ modules: ["bench/browser/gateway-chunk-fetch-page.ts"] });
const token = "gateway-bench-token";

function measured(
  browser: ChromiumDirect,
  exportName: string,
  context: Parameters<Contestant["open"]>[0],
  close: () => Promise<void>,
): OpenContestant {
  return {
    async run(phase) {
      const before = browser.cpuSeconds();
      const figures = await browser.call<Record<string, number>>(page, exportName, [
        chunkCount(context, phase),
      ]);
      const after = browser.cpuSeconds();
      return before === undefined || after === undefined
        ? figures
        : { ...figures, chromiumCpuSeconds: after - before };
    },
    close,
  };
}

const throughGateway: Contestant = {
  name: "ferry-gateway-chromium",
  description: `browser bundle's TransportClient.fetchChunk through startNodeGateway (token, ` +
    `Origin check) to the Ferry service on TCP, ${chunksInFlight} in flight`,
  async open(context) {
    const browser = await chromium.acquire();
    let running: RunningGateway | undefined;
    try {
      const { host, port } = context.servers.get("ferry");
      running = await startNodeGateway({
        targets: { bench: { host, port } },
        allowedOrigins: [new URL(browser.baseUrl).origin],
        token,
      });
      await browser.call(page, "openGateway", [
        `ws://127.0.0.1:${running.address.port}/gateway/bench`,
        token,
      ]);
    } catch (error) {
      await running?.close();
      await chromium.release();
      throw error;
    }
    const gateway = running;
    return measured(browser, "fetchGateway", context, async () => {
      await gateway.close();
      await chromium.release();
    });
  },
};

const direct: Contestant = {
  name: "ferry-ws-chromium",
  description: `the same client straight to the Ferry service on Ferry's Node WebSocket ` +
    `listener, ${chunksInFlight} in flight`,
  async open(context) {
    const browser = await chromium.acquire();
    try {
      const { host, port } = context.servers.get("ferry-ws");
      await browser.call(page, "openDirect", [`ws://${host}:${port}/`]);
    } catch (error) {
      await chromium.release();
      throw error;
    }
    return measured(browser, "fetchDirect", context, () => chromium.release());
  },
};

export const gatewayChromiumChunkFetchCase: BenchCase = {
  name: "gateway-chromium-chunk-fetch",
  description: `1 GiB as 1 MiB chunks, ${chunksInFlight} in flight, into a directly launched ` +
    `Chromium through the gateway (to Ferry on TCP) vs directly from a Ferry WebSocket listener`,
  servers: ["ferry", "ferry-ws"],
  contestants: [throughGateway, direct],
  rows: [{
    name: "gateway-chromium-chunk-fetch-1gib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "ferry-gateway-chromium",
    baseline: "ferry-ws-chromium",
    target: { op: ">=", ratio: 0.8 },
  }],
};
