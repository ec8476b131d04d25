/**
 * What Spark SASL costs on one connection, one run of the work of the bench case
 * `sasl-auth-conf` (`bench/cases/sasl-auth-conf.ts`): `node --import tsx
 * bench/probes/sasl-throughput.ts [MiB]` first sets Ferry's 3DES-CBC beside OpenSSL's
 * (`node:crypto` `des-ede3-cbc`, 8 MiB, best of three), then echoes MiB (default 32) of 1 MiB
 * RPCs over loopback TCP, 4 in flight, with qop auth and with qop auth-conf, and prints MiB/s of
 * payload each way, per wall second and per CPU second of this process. The same program runs
 * under Deno (`deno run -A bench/probes/sasl-throughput.ts`) through Node's compatibility layer.
 *
 * Read the auth-conf figure against the cipher's: client and server share this one process and
 * thread, and each echoed byte is sealed and opened on the way out and again on the way back —
 * four 3DES (and four HMAC-MD5) passes per byte. So the echo's ceiling is a quarter of the
 * cipher's rate; the last line says how much of that ceiling the echo reaches, i.e. what the
 * layer costs beyond the cipher (framing, MACs, copies).
 *
 * There is no target: 3DES is slow by nature. Prefer TLS when both ends are Ferry or the Spark
 * cluster offers it (`spark.ssl`); use auth-conf when the peer is a Spark cluster that requires
 * it.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { createCipheriv } from "node:crypto";
import process from "node:process";
import {
  connectSaslEcho,
  encryptOnce,
  listenSaslEcho,
  openSaslEcho,
  timed,
} from "../cases/sasl-auth-conf.ts";
import { ownCpuSeconds, processCpuSeconds } from "../harness/cpu-meter.ts";

if (process.argv[2] === "--serve") {
  // The server of the two-process run: print the port, serve until stdin closes.
  const server = await listenSaslEcho();
  console.log(String(server.port));
  process.stdin.resume();
  process.stdin.on("end", () => void server.close().then(() => process.exit(0)));
  await new Promise(() => {});
}

const totalMiB = Number(process.argv[2] ?? "32");
const format = (rate: { mibPerSecond: number; mibPerCpuSecond: number }) =>
  `${rate.mibPerSecond.toFixed(1)} MiB/s (${rate.mibPerCpuSecond.toFixed(1)} per CPU-s)`;

const data = new Uint8Array(8 * 1024 * 1024);
for (let p = 0; p < data.byteLength; p += 65536) {
  crypto.getRandomValues(data.subarray(p, p + 65536));
}
const best = async (implementation: "ferry" | "openssl") => {
  let fastest = { mibPerSecond: 0, mibPerCpuSecond: 0 };
  for (let i = 0; i < 3; i++) {
    const rate = await timed(8, () => encryptOnce(implementation, data));
    if (rate.mibPerCpuSecond > fastest.mibPerCpuSecond) fastest = rate;
  }
  return fastest;
};
const ferry = await best("ferry");
const openssl = await best("openssl");
console.log(
  `sasl-throughput 3des-cbc: ferry ${format(ferry)}, node:crypto ${format(openssl)}: ` +
    `${(ferry.mibPerSecond / openssl.mibPerSecond).toFixed(2)}× ` +
    `(${(ferry.mibPerCpuSecond / openssl.mibPerCpuSecond).toFixed(2)}× per CPU-s)`,
);
// For scale: the cipher TLS would use instead (AES-128-GCM in OpenSSL), same data.
{
  let fastest = { mibPerSecond: 0, mibPerCpuSecond: 0 };
  for (let i = 0; i < 3; i++) {
    const rate = await timed(8, () => {
      const cipher = createCipheriv("aes-128-gcm", data.subarray(0, 16), data.subarray(16, 28));
      cipher.update(data);
      cipher.final();
    });
    if (rate.mibPerCpuSecond > fastest.mibPerCpuSecond) fastest = rate;
  }
  console.log(`sasl-throughput aes-128-gcm (TLS's cipher, node:crypto): ${format(fastest)}`);
}

const echoes: Record<string, { mibPerSecond: number; mibPerCpuSecond: number }> = {};
for (const qop of ["auth", "auth-conf"] as const) {
  const session = await openSaslEcho(qop === "auth-conf");
  try {
    await session.echo(4); // warm-up: JIT and socket buffers
    echoes[qop] = await timed(totalMiB, () => session.echo(totalMiB));
    console.log(`sasl-throughput ${qop}: ${totalMiB} MiB echoed, ${format(echoes[qop])} each way`);
  } finally {
    await session.close();
  }
}
const authConf = echoes["auth-conf"]!, auth = echoes.auth!;
console.log(
  `sasl-throughput ratios: auth-conf/auth ${
    (authConf.mibPerSecond / auth.mibPerSecond).toFixed(4)
  }×; ` +
    `auth-conf reaches ${(400 * authConf.mibPerCpuSecond / ferry.mibPerCpuSecond).toFixed(0)}% ` +
    `of its ceiling per CPU-s (a quarter of Ferry's 3DES, ${
      (ferry.mibPerCpuSecond / 4).toFixed(1)
    })`,
);

// The same auth-conf echo with the server in a process of its own (Node only: it re-runs this
// script with the same runtime flags). Each process now seals and opens each byte once per
// direction, so on two free cores the echo may approach half the cipher's rate.
if (!("Deno" in globalThis)) {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, "--serve"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.setEncoding("utf8").once("data", (line: string) => resolve(Number(line)));
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`the echo server exited with ${code}`)));
    });
    const session = await connectSaslEcho(port, true);
    try {
      await session.echo(4);
      const serverBefore = processCpuSeconds(child.pid!), clientBefore = ownCpuSeconds();
      const rate = await timed(totalMiB, () => session.echo(totalMiB));
      const serverCpu = (processCpuSeconds(child.pid!) ?? NaN) - (serverBefore ?? NaN);
      const clientCpu = ownCpuSeconds() - clientBefore;
      console.log(
        `sasl-throughput auth-conf, server in its own process: ${totalMiB} MiB echoed, ` +
          `${rate.mibPerSecond.toFixed(1)} MiB/s each way (${
            (totalMiB / (clientCpu + serverCpu)).toFixed(1)
          } per CPU-s of both; client ${clientCpu.toFixed(1)} s, server ${serverCpu.toFixed(1)} s)`,
      );
    } finally {
      await session.close();
    }
  } finally {
    child.stdin.end();
  }
}
