/**
 * What Spark SASL encryption (qop auth-conf, 3DES) costs, recorded with no target: 3DES is slow by
 * nature, and here it runs in plain TypeScript.
 *
 * - ferry-3des / openssl-3des: Ferry's 3DES-CBC (`src/sasl/triple-des.ts`) and OpenSSL's
 *   (`node:crypto` `des-ede3-cbc`) encrypting the same buffer.
 * - ferry-auth-conf / ferry-auth: 1 MiB RPC echoes, 4 in flight, over loopback TCP through
 *   `SparkSaslServer` after `sparkSaslBootstrap` with and without `encrypt`.
 *
 * Self-contained: the echo server runs in this process (no server kind in the server process),
 * so client and server share one thread and each echoed byte is sealed and opened twice — four
 * 3DES and four HMAC-MD5 passes per byte. The echo's ceiling is therefore a quarter of the
 * cipher's rate; `auth-conf ÷ (ferry-3des ÷ 4)` says what the layer costs beyond the cipher.
 * Every sample also carries `mibPerCpuSecond` (this process's CPU time), steadier than wall time
 * on a loaded machine. `bench/probes/sasl-throughput.ts` runs the same work once, in Node or Deno.
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
import type { BenchCase, Contestant, RunPhase } from "../harness/bench-case.ts";

const MiB = 1024 * 1024;
const SECRET = "f1c7aa04bf6786382da8866a63f933ae3de6fc80fdb1350343ab6ed47556a7ac";
const echoesInFlight = 4;

/** MiB per run, `[warm-up, measured]`, full and `--quick` (auth-conf manages a few MiB/s). */
const sizes = {
  cipher: { full: [8, 8], quick: [1, 1] },
  "auth-conf": { full: [2, 8], quick: [1, 1] },
  auth: { full: [64, 256], quick: [4, 16] },
} as const;

function mibFor(work: keyof typeof sizes, quick: boolean, phase: RunPhase): number {
  return sizes[work][quick ? "quick" : "full"][phase === "warmup" ? 0 : 1];
}

/** Runs `work` (which moves `mib` MiB) and returns its rate per wall and per CPU second. */
export async function timed(mib: number, work: () => unknown) {
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  await work();
  const seconds = (performance.now() - startedAt) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { mibPerSecond: mib / seconds, mibPerCpuSecond: mib / ((cpu.user + cpu.system) / 1e6) };
}

/** Encrypts `data` once with a fresh 3DES-CBC of Ferry's or OpenSSL's (key and IV from it). */
export function encryptOnce(implementation: "ferry" | "openssl", data: Uint8Array): void {
  const key = data.subarray(0, 24), iv = data.subarray(24, 32);
  if (implementation === "ferry") {
    new TripleDesCbc(key, iv, "encrypt").update(data);
  } else {
    createCipheriv("des-ede3-cbc", key, iv).setAutoPadding(false).update(data);
  }
}

function cipherContestant(implementation: "ferry" | "openssl"): Contestant {
  return {
    name: `${implementation}-3des`,
    description: implementation === "ferry"
      ? "src/sasl/triple-des.ts TripleDesCbc encrypting one buffer"
      : "node:crypto des-ede3-cbc (OpenSSL) encrypting one buffer",
    open(context) {
      const buffers = new Map<number, Uint8Array>();
      return Promise.resolve({
        run(phase: RunPhase) {
          const mib = mibFor("cipher", context.quick, phase);
          const data = buffers.get(mib) ?? fill(new Uint8Array(mib * MiB));
          buffers.set(mib, data);
          return timed(mib, () => encryptOnce(implementation, data));
        },
        close: () => Promise.resolve(),
      });
    },
  };
}

/** Random bytes (getRandomValues fills at most 64 KiB per call). */
function fill(bytes: Uint8Array): Uint8Array {
  for (let p = 0; p < bytes.byteLength; p += 65536) {
    crypto.getRandomValues(bytes.subarray(p, Math.min(bytes.byteLength, p + 65536)));
  }
  return bytes;
}

/** An echo server behind `SparkSaslServer` (offering auth and auth-conf) on a loopback port. */
export async function listenSaslEcho() {
  const sasl = new SparkSaslServer({ secret: SECRET });
  const server = new TransportServer(
    sasl.serverOptions({ rpcHandler: { receive: (_c: unknown, m: Uint8Array) => m } }),
  );
  try {
    const listener = await server.listen(sasl.listen(tcpListen({ host: "127.0.0.1", port: 0 })));
    return { port: listener.address.port, close: () => server.close() };
  } catch (error) {
    await server.close();
    throw error;
  }
}

/** A client of the echo server at `port`, authenticated with qop auth or auth-conf. */
export async function connectSaslEcho(port: number, encrypt: boolean) {
  const connect = tcpConnect({ host: "127.0.0.1", port });
  const client = await TransportClient.connect(withSaslLayer(connect));
  try {
    await sparkSaslBootstrap({ appId: "bench", secret: SECRET, encrypt })(client, {
      timeoutMs: 10_000,
      signal: new AbortController().signal,
    });
  } catch (error) {
    await client.close();
    throw error;
  }
  const payload = fill(new Uint8Array(MiB));
  return {
    /** Echoes `mib` 1 MiB RPCs, {@linkcode echoesInFlight} in flight, checking each reply. */
    async echo(mib: number): Promise<void> {
      let next = 0;
      const worker = async () => {
        while (next++ < mib) {
          const reply = await client.sendRpc(payload);
          if (reply.byteLength !== MiB || reply[MiB - 1] !== payload[MiB - 1]) {
            throw new Error(`sasl-auth-conf: a reply of ${reply.byteLength} bytes differs`);
          }
        }
      };
      await Promise.all(Array.from({ length: echoesInFlight }, worker));
    },
    close: () => client.close(),
  };
}

/** Server and client in this process. */
export async function openSaslEcho(encrypt: boolean) {
  const server = await listenSaslEcho();
  try {
    const client = await connectSaslEcho(server.port, encrypt);
    return {
      echo: (mib: number) => client.echo(mib),
      async close(): Promise<void> {
        await client.close();
        await server.close();
      },
    };
  } catch (error) {
    await server.close();
    throw error;
  }
}

function echoContestant(qop: "auth-conf" | "auth"): Contestant {
  return {
    name: `ferry-${qop}`,
    description: `1 MiB sendRpc echoes, ${echoesInFlight} in flight, Spark SASL qop ${qop}, ` +
      "in-process server over loopback TCP",
    async open(context) {
      const session = await openSaslEcho(qop === "auth-conf");
      return {
        run(phase: RunPhase) {
          const mib = mibFor(qop, context.quick, phase);
          return timed(mib, () => session.echo(mib));
        },
        close: () => session.close(),
      };
    },
  };
}

const rate = { unit: "MiB/s", higherIsBetter: true } as const;
const cpuRate = { unit: "MiB/CPU-s", higherIsBetter: true, metric: "mibPerCpuSecond" } as const;
const cipherRow = { subject: "ferry-3des", baseline: "openssl-3des" } as const;
const echoRow = { subject: "ferry-auth-conf", baseline: "ferry-auth" } as const;

export const saslAuthConfCase: BenchCase = {
  name: "sasl-auth-conf",
  description: "Spark SASL encryption: Ferry's 3DES-CBC against OpenSSL's, and 1 MiB echoes " +
    "with qop auth-conf against qop auth (recorded, no target)",
  servers: [],
  contestants: [
    cipherContestant("ferry"),
    cipherContestant("openssl"),
    echoContestant("auth-conf"),
    echoContestant("auth"),
  ],
  rows: [
    { ...rate, ...cipherRow, name: "sasl-3des-cbc-vs-openssl", metric: "mibPerSecond" },
    { ...cpuRate, ...cipherRow, name: "sasl-3des-cbc-vs-openssl-cpu" },
    { ...rate, ...echoRow, name: "sasl-auth-conf-echo-vs-auth", metric: "mibPerSecond" },
    { ...cpuRate, ...echoRow, name: "sasl-auth-conf-echo-vs-auth-cpu" },
  ],
};
