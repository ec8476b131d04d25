/**
 * What Spark SASL costs on one connection: `node --import tsx bench/probes/sasl-throughput.ts
 * [MiB]` echoes MiB (default 32) of 1 MiB RPCs over loopback TCP, 4 in flight, with no
 * authentication, with qop auth and with qop auth-conf (3DES in plain TypeScript on both ends),
 * and prints MiB/s of payload each way per mode; first, Ferry's 3DES-CBC alone next to OpenSSL's
 * (`node:crypto` `des-ede3-cbc`). The same program runs under Deno
 * (`deno run -A bench/probes/sasl-throughput.ts`) through Node's compatibility layer.
 *
 * There is no target: 3DES is slow by nature (and here it runs in JavaScript, in both the client
 * and the server of one process). Prefer TLS when both ends are Ferry or the Spark cluster
 * offers it (`spark.ssl`); use auth-conf when the peer is a Spark cluster that requires it.
 *
 * @module
 */

import { createCipheriv } from "node:crypto";
import process from "node:process";
import { tcpConnect, tcpListen } from "../../adapters/node/mod.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { withSaslLayer } from "../../src/sasl/sasl-socket.ts";
import { sparkSaslBootstrap } from "../../src/sasl/spark-sasl-bootstrap.ts";
import { SparkSaslServer } from "../../src/sasl/spark-sasl-server.ts";
import { TripleDesCbc } from "../../src/sasl/triple-des.ts";

const totalMiB = Number(process.argv[2] ?? "32");
const SECRET = "f1c7aa04bf6786382da8866a63f933ae3de6fc80fdb1350343ab6ed47556a7ac";
const body = crypto.getRandomValues(new Uint8Array(64 * 1024));
const payload = new Uint8Array(1024 * 1024);
for (let i = 0; i < 16; i++) payload.set(body, i * body.byteLength);

// The cipher alone, side by side with OpenSSL's (node:crypto), 8 MiB each, best of three.
{
  const key = crypto.getRandomValues(new Uint8Array(24));
  const iv = crypto.getRandomValues(new Uint8Array(8));
  const data = new Uint8Array(8 * 1024 * 1024);
  const best = (run: () => void) => {
    let fastest = Infinity;
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      run();
      fastest = Math.min(fastest, performance.now() - started);
    }
    return (8 / (fastest / 1000)).toFixed(1);
  };
  const ferry = best(() => new TripleDesCbc(key, iv, "encrypt").update(data));
  const openssl = best(() => {
    const cipher = createCipheriv("des-ede3-cbc", key, iv);
    cipher.setAutoPadding(false);
    cipher.update(data);
  });
  console.log(`sasl-throughput 3des-cbc: ferry ${ferry} MiB/s, node:crypto ${openssl} MiB/s`);
}

for (const mode of ["none", "auth", "auth-conf"] as const) {
  const rpcHandler = { receive: (_c: unknown, m: Uint8Array) => m };
  const sasl = mode === "none" ? undefined : new SparkSaslServer({ secret: SECRET });
  const server = new TransportServer(sasl ? sasl.serverOptions({ rpcHandler }) : { rpcHandler });
  const listen = tcpListen({ host: "127.0.0.1", port: 0 });
  const listener = await server.listen(sasl ? sasl.listen(listen) : listen);
  const connect = tcpConnect({ host: "127.0.0.1", port: listener.address.port });
  const client = await TransportClient.connect(mode === "none" ? connect : withSaslLayer(connect));
  if (mode !== "none") {
    await sparkSaslBootstrap({ appId: "bench", secret: SECRET, encrypt: mode === "auth-conf" })(
      client,
      { timeoutMs: 10_000, signal: new AbortController().signal },
    );
  }
  const echo = async (mib: number) => {
    let next = 0;
    const worker = async () => {
      while (next++ < mib) await client.sendRpc(payload);
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  };
  await echo(4); // warm-up: the first mode must not pay for the JIT of all three
  const started = performance.now();
  await echo(totalMiB);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `sasl-throughput ${mode}: ${totalMiB} MiB echoed in ${seconds.toFixed(2)} s = ` +
      `${(totalMiB / seconds).toFixed(1)} MiB/s each way`,
  );
  await client.close();
  await server.close();
}
