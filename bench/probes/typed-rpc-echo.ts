/**
 * What the typed-service path costs per call: `node --import tsx bench/probes/typed-rpc-echo.ts
 * [ROUNDS] [CALLS]`. A `ServiceRouter` echoes a 64-byte `Uint8Array` over TCP on 127.0.0.1, one
 * call at a time; each round prints calls per second, then the median over the rounds. It also
 * times `decodeServiceRequest` and `decodeServiceReply` of those 64-byte messages alone (ns per
 * decode, including the msgpack header scan that runs before msgpackr), which is where the decode
 * limits add work.
 *
 * @module
 */

import process from "node:process";
import { tcpConnect, tcpListen } from "../../adapters/node/tcp.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import {
  decodeServiceReply,
  decodeServiceRequest,
  defineService,
  encodeServiceRequest,
  encodeServiceSuccess,
  method,
  serviceClient,
  ServiceRouter,
} from "../../src/rpc/mod.ts";
import { TransportServer } from "../../src/server/transport-server.ts";

const rounds = Number(process.argv[2] ?? 5);
const calls = Number(process.argv[3] ?? 5_000);
const echo = defineService("bench.echo", { echo: method<Uint8Array, Uint8Array>() });
const payload = new Uint8Array(64).map((_, i) => i);

const server = new TransportServer({
  rpcHandler: new ServiceRouter().serve(echo, { echo: (value) => value }),
});
const listener = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
const client = await TransportClient.connect(
  tcpConnect({ host: "127.0.0.1", port: listener.address.port }),
);
const api = serviceClient(echo, client);

for (let i = 0; i < 2_000; i++) await api.echo(payload);
const rates: number[] = [];
for (let round = 0; round < rounds; round++) {
  const started = performance.now();
  for (let i = 0; i < calls; i++) await api.echo(payload);
  const rate = calls / ((performance.now() - started) / 1000);
  rates.push(rate);
  console.log(`round ${round + 1}: ${rate.toFixed(0)} calls/s`);
}
rates.sort((a, b) => a - b);
console.log(`64-byte echo: median ${rates[rates.length >> 1]!.toFixed(0)} calls/s`);
await client.close();
await server.close();

const request = encodeServiceRequest("bench.echo", "echo", payload);
const reply = encodeServiceSuccess(payload, "the echo");
for (
  const [name, decode] of [
    ["decodeServiceRequest", () => decodeServiceRequest(request)],
    ["decodeServiceReply", () => decodeServiceReply(reply, "bench.echo.echo")],
  ] as const
) {
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const n = 200_000;
    const started = performance.now();
    for (let i = 0; i < n; i++) decode();
    times.push(((performance.now() - started) * 1e6) / n);
  }
  times.sort((a, b) => a - b);
  console.log(
    `${name} of ${name.endsWith("Request") ? request.byteLength : reply.byteLength} bytes: ` +
      `median ${times[times.length >> 1]!.toFixed(0)} ns`,
  );
}
