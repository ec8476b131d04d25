/**
 * `ferry serve --metrics 0`, scraped by a real Prometheus server (the Debian `prometheus` package,
 * which `.ci/run` installs), started here with a temporary configuration and storage, on loopback:
 * Prometheus sees the target up, Ferry's series exist, and they move when files are downloaded
 * directly over TCP and through the gateway.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFerry, type RunningServe, startServe } from "../helpers/ferry-cli.ts";

const PROMETHEUS = "/usr/bin/prometheus";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 60_000;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}${last === undefined ? "" : `: ${last}`}`);
}

describe("ferry serve --metrics, scraped by Prometheus", {
  skip: existsSync(PROMETHEUS) ? false : `${PROMETHEUS} is not installed`,
  timeout: 240_000,
}, () => {
  const work = mkdtempSync(join(tmpdir(), "ferry-prometheus-"));
  let serve: RunningServe;
  let prometheus: ChildProcess;
  let api: string;
  let prometheusLog = "";

  /** The sum of an instant vector, or undefined while it has no series. */
  async function value(query: string): Promise<number | undefined> {
    const response = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(query)}`);
    const body = await response.json() as {
      data: { result: { value: [number, string] }[] };
    };
    const result = body.data.result;
    if (result.length === 0) return undefined;
    return result.reduce((sum, series) => sum + Number(series.value[1]), 0);
  }

  before(async () => {
    serve = await startServe([
      "--port",
      "0",
      "--ws-port",
      "0",
      "--http-port",
      "0",
      "--metrics",
      "0",
      "--no-web",
      "--demo-dir",
      join(work, "demo"),
      "--demo-size",
      "2M",
    ]);
    const metricsUrl = /^Metrics\s+(\S+)$/m.exec(serve.stdout())?.[1];
    assert.ok(metricsUrl, `serve prints its metrics URL:\n${serve.stdout()}`);
    const target = new URL(metricsUrl);
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(work, "prometheus.yml"),
      [
        "global:",
        "  scrape_interval: 1s",
        "scrape_configs:",
        "  - job_name: ferry",
        `    metrics_path: ${target.pathname}`,
        "    static_configs:",
        `      - targets: ["${target.host}"]`,
        "",
      ].join("\n"),
    );
    prometheus = spawn(PROMETHEUS, [
      `--config.file=${join(work, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(work, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ], { stdio: ["ignore", "ignore", "pipe"] });
    prometheus.stderr!.setEncoding("utf8").on("data", (text: string) => {
      prometheusLog = (prometheusLog + text).slice(-4000);
    });
    await until("Prometheus to be ready", async () => {
      const response = await fetch(`${api}/-/ready`);
      await response.body?.cancel();
      return response.ok ? true : undefined;
    });
  });

  after(async () => {
    if (prometheus !== undefined && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus.once("exit", resolve));
      prometheus.kill("SIGTERM");
      await exited;
    }
    await serve?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test("the target is up and Ferry's series exist and move with traffic", async () => {
    try {
      await until(
        "the ferry target to be scraped",
        async () => await value('up{job="ferry"}') === 1 ? true : undefined,
      );
      const io = 'ferry_network_io_total{ferry_connection_role="server",' +
        'network_io_direction="transmit"}';
      const before = await until("ferry_network_io_total", () => value(io));

      const direct = await runFerry(["get", `${serve.tcp}big.bin`, join(work, "direct.bin")]);
      assert.equal(direct.code, 0, direct.stderr);
      const viaGateway = await runFerry([
        "get",
        `${serve.gateway}big.bin`,
        join(work, "gateway.bin"),
      ]);
      assert.equal(viaGateway.code, 0, viaGateway.stderr);

      // Two downloads of 2 MiB each left the server (the gateway's is fetched from it too).
      const moved = await until("server bytes to grow by 4 MiB", async () => {
        const now = await value(io);
        return now !== undefined && now - before >= 4 * 2 ** 20 ? now - before : undefined;
      });
      console.log(`ferry_network_io_total (server, transmit) grew by ${moved} bytes`);
      const chunkFetches = await until(
        "chunk fetches served",
        () => value('rpc_server_duration_count{rpc_method="ChunkFetchRequest"}'),
      );
      assert.ok(chunkFetches >= 4, `chunk fetches served: ${chunkFetches}`);
      const expected = [
        'ferry_connection_opened_total{ferry_connection_role="server",network_transport="tcp"}',
        'ferry_connection_opened_total{ferry_connection_role="client"}',
        'rpc_server_duration_count{rpc_method="RpcRequest"}',
        'rpc_client_duration_count{rpc_method="ChunkFetchRequest"}',
        'ferry_gateway_session_events_total{ferry_gateway_event="session-open"}',
        "ferry_pool_lease_wait_duration_count",
        'ferry_pool_connections{ferry_pool_route="files"}',
        "ferry_pool_leases_pending",
        "ferry_connection_active",
        "ferry_requests_active",
        "ferry_gateway_sessions_active",
      ];
      for (const query of expected) {
        const found = await until(query, () => value(query));
        assert.ok(found >= 0, `${query} = ${found}`);
      }
      assert.ok(
        (await value('ferry_connection_opened_total{ferry_connection_role="server"}'))! >= 2,
      );
    } catch (error) {
      console.log(`prometheus log (tail):\n${prometheusLog}`);
      throw error;
    }
  });
});
