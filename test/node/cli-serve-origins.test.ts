/**
 * `ferry serve --http-port 0` (under Node and under Deno): the gateway's Origin allowlist is
 * exactly the web page's own origins with the port the listener really got — never "any origin".
 * A browser from another origin, or from the right host on another port, is refused before the
 * upgrade (403); from the page's origins it lists the files through the gateway. The direct
 * WebSocket port applies the same allowlist.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { pageOrigins } from "../../cli/serve-gateway.ts";
import { fileService } from "../../src/files/file-service.ts";
import { serviceClient } from "../../src/rpc/service-client.ts";
import { type CliRuntimeName, type RunningServe, startServe } from "../helpers/ferry-cli.ts";
import { openGatewayBrowser } from "../helpers/gateway-browser.ts";

/** What the upgrade at `url` with `origin` gets: "open", or the HTTP status that refused it. */
function upgradeOutcome(url: string, origin: string): Promise<"open" | number> {
  return new Promise((resolve, reject) => {
    // An empty origin sends no Origin header: a non-browser client.
    const ws = new WebSocket(url, origin === "" ? {} : { origin });
    ws.once("open", () => {
      ws.close();
      resolve("open");
    });
    ws.once("unexpected-response", (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.once("error", (error) => reject(error));
  });
}

test("pageOrigins: loopback names and the configured host, never a wildcard", () => {
  assert.deepEqual(pageOrigins("127.0.0.1", 4321), [
    "http://127.0.0.1:4321",
    "http://localhost:4321",
  ]);
  assert.deepEqual(pageOrigins("files.example", 80), [
    "http://127.0.0.1:80",
    "http://localhost:80",
    "http://files.example:80",
  ]);
  assert.deepEqual(pageOrigins("0.0.0.0", 8080), [
    "http://127.0.0.1:8080",
    "http://localhost:8080",
  ]);
  assert.deepEqual(pageOrigins("::", 8080), [
    "http://127.0.0.1:8080",
    "http://localhost:8080",
    "http://[::1]:8080",
  ]);
  assert.deepEqual(pageOrigins("fe80::1", 8080).at(-1), "http://[fe80::1]:8080");
  assert.throws(() => pageOrigins("127.0.0.1", 0), /expected the bound port.*received 0/);
});

for (const runtime of ["node", "deno"] as const satisfies readonly CliRuntimeName[]) {
  describe(`ferry serve --http-port 0 under ${runtime}`, { timeout: 180_000 }, () => {
    const work = mkdtempSync(join(tmpdir(), `ferry-origins-${runtime}-`));
    let serve: RunningServe;
    let port: number;

    before(async () => {
      serve = await startServe([
        ...["--port", "0", "--ws-port", "0", "--http-port", "0"],
        ...["--demo-size", "1M", "--demo-dir", join(work, "demo"), "--no-web"],
      ], { runtime, timeoutMs: 120_000 });
      port = Number(new URL(serve.web).port);
    });

    after(async () => {
      await serve?.stop();
      rmSync(work, { recursive: true, force: true });
    });

    test("prints exactly the page's origins, with the bound port", () => {
      assert.ok(port > 0 && port !== 8080, `a free port was picked, got ${port}`);
      const line = /^Origins\s+(.+)$/m.exec(serve.stdout());
      assert.ok(line, `serve prints its Origins:\n${serve.stdout()}`);
      assert.deepEqual(line[1]!.trim().split(/\s+/), [
        `http://127.0.0.1:${port}`,
        `http://localhost:${port}`,
      ]);
    });

    test("another origin, or the page's host on another port, is refused with 403", async () => {
      const url = `ws://127.0.0.1:${port}/gateway/files`;
      assert.equal(await upgradeOutcome(url, "http://evil.example"), 403);
      assert.equal(await upgradeOutcome(url, `http://127.0.0.1:${port + 1}`), 403);
      assert.equal(await upgradeOutcome(url, "null"), 403);
    });

    test("the direct WebSocket port admits the page's origins and no-Origin clients only", async () => {
      const direct = serve.ws;
      const outcomes = {
        evil: await upgradeOutcome(direct, "http://evil.example"),
        otherPort: await upgradeOutcome(direct, `http://127.0.0.1:${port + 1}`),
        page: await upgradeOutcome(direct, `http://127.0.0.1:${port}`),
        localhost: await upgradeOutcome(direct, `http://localhost:${port}`),
        noOrigin: await upgradeOutcome(direct, ""),
      };
      console.log(`direct WebSocket ${direct} (${runtime}): ${JSON.stringify(outcomes)}`);
      assert.deepEqual(outcomes, {
        evil: 403,
        otherPort: 403,
        page: "open",
        localhost: "open",
        noOrigin: "open",
      });
    });

    test("the page's origins list the files through the gateway", async () => {
      for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
        const browser = await openGatewayBrowser(`ws://127.0.0.1:${port}/gateway/files`, {
          origin,
        });
        try {
          const names = (await serviceClient(fileService, browser.client).list(undefined, {
            timeoutMs: 10_000,
          })).map((file) => file.name);
          assert.ok(names.includes("medium.bin"), `${origin}: ${names.join(", ")}`);
        } finally {
          await browser.client.close();
        }
      }
    });
  });
}
