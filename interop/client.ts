/**
 * The Ferry interop client (`docs/interop.md`), for Node, Deno and Bun:
 *
 *     node --import tsx interop/client.ts <host> <port> [--timeout-ms <ms>]
 *     node --import tsx interop/client.ts tcp://host:port
 *     node --import tsx interop/client.ts tls://host:port --ca server-cert.pem
 *     deno run -A interop/client.ts <host> <port>
 *     bun interop/client.ts <host> <port>
 *     node --import tsx interop/client.ts <host> <port> --sasl-secret <secret> [--sasl-encrypt]
 *
 * With `--sasl-secret` the client first authenticates with Spark's SASL (DIGEST-MD5 as appId
 * `--sasl-app-id`, default `app-1`; `--sasl-encrypt` for qop auth-conf), as a Spark client with
 * `spark.authenticate=true` does; a failed authentication fails every check with its reason.
 *
 * Prints `PASS <name>` / `FAIL <name>: <detail>` per check, then `N passed, M failed`; exits 0
 * only if every check passed (1 otherwise, 2 for a bad command line or an unavailable scheme).
 *
 * @module
 */

import { TransportClient } from "../src/client/transport-client.ts";
import { describeError, InvalidArgumentError } from "../src/errors.ts";
import { withSaslLayer } from "../src/sasl/sasl-socket.ts";
import { sparkSaslBootstrap } from "../src/sasl/spark-sasl-bootstrap.ts";
import { clientUsage, parseClientArgs } from "./args.ts";
import {
  type ChecksSummary,
  failAllChecks,
  formatResult,
  formatSummary,
  runInteropChecks,
} from "./checks.ts";
import { announceRuntime, type InteropRuntime, loadRuntime } from "./runtime.ts";

/** Bounds the connect and the final close, so a dead server cannot hold the client. */
const CONNECT_TIMEOUT_MS = 10_000;
const CLOSE_GRACE_MS = 2_000;

const runtime: InteropRuntime = await loadRuntime();
announceRuntime(runtime, "client");

let args;
let connect;
try {
  args = parseClientArgs(runtime.args);
  const ca = args.caFile === undefined ? undefined : await readCa(args.caFile);
  connect = runtime.connect(args.target, ca === undefined ? {} : { ca });
  if (args.sasl !== undefined) connect = withSaslLayer(connect);
} catch (error) {
  console.error(describeError(error));
  console.error(clientUsage);
  runtime.exit(2);
}

async function readCa(path: string): Promise<string> {
  try {
    return await runtime.readTextFile(path);
  } catch (error) {
    throw new InvalidArgumentError(`Cannot read --ca ${path}: ${describeError(error)}`);
  }
}

const print = (result: Parameters<typeof formatResult>[0]) => console.log(formatResult(result));
let client: TransportClient | undefined;
let summary: ChecksSummary;
try {
  client = await TransportClient.connect(connect, { timeoutMs: CONNECT_TIMEOUT_MS });
} catch (error) {
  summary = failAllChecks(`cannot connect to ${args.target.url}: ${describeError(error)}`, print);
}
if (client !== undefined && args.sasl !== undefined) {
  const { appId, secret, encrypt } = args.sasl;
  try {
    await sparkSaslBootstrap({ appId, secret, encrypt })(client, {
      timeoutMs: CONNECT_TIMEOUT_MS,
      signal: new AbortController().signal,
    });
  } catch (error) {
    summary = failAllChecks(
      `SASL authentication to ${args.target.url} failed: ${describeError(error)}`,
      print,
    );
    await client.close().catch(() => {});
    client = undefined;
  }
}
if (client !== undefined) {
  summary = await runInteropChecks(client, {
    checkTimeoutMs: args.checkTimeoutMs,
    onResult: print,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    client.close().catch(() => {}),
    new Promise((resolve) => timer = setTimeout(resolve, CLOSE_GRACE_MS)),
  ]);
  clearTimeout(timer);
}
console.log(formatSummary(summary!));
runtime.exit(summary!.failed === 0 ? 0 : 1);
