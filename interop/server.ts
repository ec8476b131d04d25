/**
 * The Ferry interop server (`docs/interop.md`), for Node, Deno and Bun:
 *
 *     node --import tsx interop/server.ts [port] [host] [--ws <port>] [--tls <port>]
 *                                         [--cert-out <file>]
 *     deno run -A interop/server.ts [port] [host] [--ws <port>] [--tls <port>] ...
 *     bun interop/server.ts [port] [host] [--ws <port>] [--tls <port>] ...
 *
 * Prints `LISTENING <host> <port>` once bound. One TransportServer serves every listener:
 * `--tls` adds TLS with a freshly generated self-signed certificate (written to `--cert-out` for
 * clients to trust: `client tls://host:port --ca <file>`) and prints
 * `LISTENING tls://<host>:<port>`; `--ws` adds WebSocket (any path) and prints
 * `LISTENING ws://<host>:<port>/`. Serves until SIGINT/SIGTERM, then closes cleanly.
 *
 * With `--sasl-secret <secret>` every connection must first pass Spark's SASL authentication
 * (as a Spark server with `spark.authenticate=true`): any appId with that secret, or only
 * `--sasl-app-id`'s; `--sasl-encrypt` offers only qop auth-conf (`serverAlwaysEncrypt`).
 *
 * @module
 */

import { describeError } from "../src/errors.ts";
import { SparkSaslServer } from "../src/sasl/spark-sasl-server.ts";
import type { Listen } from "../src/socket.ts";
import { generateSelfSignedCertificate } from "../src/tls/self-signed-certificate.ts";
import { parseServerArgs, serverUsage } from "./args.ts";
import { createInteropServer } from "./interop-handler.ts";
import {
  announceRuntime,
  type InteropRuntime,
  loadRuntime,
  type TlsCredentials,
} from "./runtime.ts";

const runtime: InteropRuntime = await loadRuntime();
announceRuntime(runtime, "server");

let args;
try {
  args = parseServerArgs(runtime.args);
} catch (error) {
  console.error(describeError(error));
  console.error(serverUsage);
  runtime.exit(2);
}

const sasl = args.sasl === undefined ? undefined : new SparkSaslServer({
  secretFor: (appId) =>
    args.sasl!.appIdGiven && appId !== args.sasl!.appId ? undefined : args.sasl!.secret,
  alwaysEncrypt: args.sasl.encrypt,
  onAuthFailure: (peer, reason) => console.error(`SASL: ${peer}: ${describeError(reason)}`),
});
const server = createInteropServer(
  sasl === undefined ? {} : { secure: (o) => sasl.serverOptions(o) },
);
/** Every listener behind the SASL socket layer when SASL is on (so auth-conf can be offered). */
const secured = (listen: Listen): Listen => sasl === undefined ? listen : sasl.listen(listen);
try {
  const listener = await server.listen(secured(runtime.listenTcp(args.host, args.port)));
  console.log(`LISTENING ${listener.address.host} ${listener.address.port}`);
  if (args.tlsPort !== undefined) {
    const credentials = await testCredentials(args.host, args.certOut);
    const tls = await server.listen(
      secured(runtime.listenTls(args.host, args.tlsPort, credentials)),
    );
    console.log(`LISTENING tls://${hostInUrl(tls.address.host)}:${tls.address.port}`);
  }
  if (args.wsPort !== undefined) {
    const ws = await server.listen(secured(runtime.listenWebSocket(args.host, args.wsPort)));
    console.log(`LISTENING ws://${hostInUrl(ws.address.host)}:${ws.address.port}/`);
  }
} catch (error) {
  console.error(`Cannot serve on ${args.host}: ${describeError(error)}`);
  await server.close();
  runtime.exit(1);
}

/**
 * A fresh self-signed certificate for `localhost`, 127.0.0.1, ::1 and the listening host (when
 * it is a specific name or address), written to `certOut` for clients' `--ca`.
 */
async function testCredentials(host: string, certOut: string | undefined): Promise<TlsCredentials> {
  const altNames = ["localhost", "127.0.0.1", "::1"];
  if (!altNames.includes(host) && host !== "0.0.0.0" && host !== "::") altNames.push(host);
  const { certPem, keyPem } = await generateSelfSignedCertificate({ altNames });
  if (certOut !== undefined) await runtime.writeTextFile(certOut, certPem);
  return { cert: certPem, key: keyPem };
}

function hostInUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

runtime.onShutdownSignal(() => {
  server.close().then(() => runtime.exit(0), (error) => {
    console.error(`Closing the interop server failed: ${describeError(error)}`);
    runtime.exit(1);
  });
});
