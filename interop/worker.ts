/**
 * The Ferry interop client as a Cloudflare Worker (workerd), bundled with esbuild from these
 * sources (`cloudflare:sockets` left external). Each request runs the 17 interop checks (docs/interop.md)
 * against the server its query names and answers with exactly what `interop/client.ts` prints:
 *
 *     GET /checks?target=tcp://127.0.0.1:7337     TCP through connect() from cloudflare:sockets
 *     GET /checks?target=ws://127.0.0.1:7338/     WebSocket through workerd's own WebSocket
 *
 * and, for the request-reuse case (a client kept from one request to the next):
 *
 *     GET /reuse/open?target=tcp://…   connects a client, keeps it in the isolate, one RPC
 *     GET /reuse/use?target=tcp://…    one RPC on that kept client from this (later) request
 *
 * `/reuse/use` answers `REUSE <outcome>: <error class> <message>`: workerd refuses I/O on a
 * socket opened by another request, and the client must fail with that cause, not time out.
 *
 * @module
 */

// @ts-ignore: a workerd built-in module, resolved by workerd at run time (esbuild leaves it out)
import { connect as cloudflareConnect } from "cloudflare:sockets";
import { TransportClient } from "../src/client/transport-client.ts";
import { describeError, InvalidArgumentError } from "../src/errors.ts";
import type { Connect } from "../src/socket.ts";
import { webSocketConnect } from "../adapters/websocket/mod.ts";
import { winterTcConnect, type WinterTcConnectFunction } from "../adapters/wintertc/mod.ts";
import { parseClientArgs } from "./args.ts";
import { failAllChecks, formatResult, formatSummary, runInteropChecks } from "./checks.ts";

const CONNECT_TIMEOUT_MS = 10_000;
const CLOSE_GRACE_MS = 2_000;
/** The reuse RPC's own deadline: far longer than failing with the cause takes. */
const REUSE_RPC_TIMEOUT_MS = 20_000;

function connectorFor(targetText: string | null): Connect {
  if (targetText === null) throw new InvalidArgumentError("the query has no target");
  const { target } = parseClientArgs([targetText]);
  if (target.scheme === "tcp") {
    return winterTcConnect(cloudflareConnect as WinterTcConnectFunction, {
      host: target.host,
      port: target.port,
    });
  }
  if (target.scheme === "ws") return webSocketConnect({ url: target.url });
  throw new InvalidArgumentError(`the Worker speaks tcp:// and ws://, received ${target.url}`);
}

async function runChecks(connect: Connect, target: string): Promise<string> {
  const lines: string[] = [];
  const print = (result: Parameters<typeof formatResult>[0]) => lines.push(formatResult(result));
  let client: TransportClient | undefined;
  let summary;
  try {
    client = await TransportClient.connect(connect, { timeoutMs: CONNECT_TIMEOUT_MS });
  } catch (error) {
    summary = failAllChecks(`cannot connect to ${target}: ${describeError(error)}`, print);
  }
  if (client !== undefined) {
    summary = await runInteropChecks(client, { onResult: print });
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      client.close().catch(() => {}),
      new Promise((resolve) => timer = setTimeout(resolve, CLOSE_GRACE_MS)),
    ]);
    clearTimeout(timer);
  }
  lines.push(formatSummary(summary!));
  return lines.join("\n") + "\n";
}

/** The clients `/reuse/open` left for a later request, by target. */
const kept = new Map<string, TransportClient>();

async function reuse(step: string, url: URL): Promise<string> {
  const body = new TextEncoder().encode("reuse");
  const target = String(url.searchParams.get("target"));
  if (step === "open") {
    const opened = await TransportClient.connect(connectorFor(target), {
      timeoutMs: CONNECT_TIMEOUT_MS,
    });
    kept.set(target, opened);
    await opened.sendRpc(body, { timeoutMs: REUSE_RPC_TIMEOUT_MS });
    return "OPENED\n";
  }
  const client = kept.get(target);
  if (client === undefined) return `REUSE no client was kept for ${target}\n`;
  kept.delete(target);
  const started = Date.now();
  try {
    await client.sendRpc(body, { timeoutMs: REUSE_RPC_TIMEOUT_MS });
    return `REUSE worked after ${Date.now() - started} ms\n`;
  } catch (error) {
    const name = (error as Error)?.constructor?.name ?? typeof error;
    return `REUSE failed after ${Date.now() - started} ms: ${name} ${describeError(error)}\n`;
  }
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    try {
      if (url.pathname === "/checks") {
        const target = url.searchParams.get("target");
        return new Response(await runChecks(connectorFor(target), String(target)));
      }
      if (url.pathname.startsWith("/reuse/")) {
        return new Response(await reuse(url.pathname.slice("/reuse/".length), url));
      }
      return new Response(`no route ${url.pathname}\n`, { status: 404 });
    } catch (error) {
      return new Response(`ERROR ${describeError(error)}\n`, { status: 500 });
    }
  },
};
