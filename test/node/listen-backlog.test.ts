/**
 * Node TCP and TLS listeners bind with a listen backlog of 4096 unless the caller gives one
 * (Node's own default, 511, overflows when ~1000 clients connect at once; see
 * server-accept.test.ts). Read back from the kernel: `ss` reports a listening socket's backlog as
 * its Send-Q, already capped at `net.core.somaxconn`. Linux only (skipped without `ss`).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { DEFAULT_NODE_LISTEN_BACKLOG } from "../../adapters/node/node-endpoint.ts";
import { tcpListen } from "../../adapters/node/tcp.ts";
import { tlsListen } from "../../adapters/node/tls.ts";
import type { Listen } from "../../src/socket.ts";
import { generateSelfSignedCertificate } from "../../src/tls/self-signed-certificate.ts";

/** The kernel's backlog of the socket listening on 127.0.0.1:`port`, or undefined without `ss`. */
function kernelBacklog(port: number): number | undefined {
  let out: string;
  try {
    out = execFileSync("ss", ["-ltnH", `sport = :${port}`], { encoding: "utf8" });
  } catch {
    return undefined;
  }
  const line = out.split("\n").find((row) => row.includes(`127.0.0.1:${port}`));
  assert.ok(line, `ss lists the listener on port ${port}: ${JSON.stringify(out)}`);
  return Number(line.trim().split(/\s+/)[2]); // State Recv-Q Send-Q Local Peer
}

function somaxconn(): number {
  try {
    return Number(readFileSync("/proc/sys/net/core/somaxconn", "utf8"));
  } catch {
    return Infinity;
  }
}

async function backlogOf(listen: Listen): Promise<number | undefined> {
  const listener = await listen(() => {});
  try {
    return kernelBacklog(listener.address.port);
  } finally {
    await listener.close();
  }
}

const { certPem, keyPem } = await generateSelfSignedCertificate();
const expectedDefault = Math.min(DEFAULT_NODE_LISTEN_BACKLOG, somaxconn());

test("tcpListen and tlsListen default to a backlog of 4096; an explicit one is kept", async (t) => {
  assert.equal(DEFAULT_NODE_LISTEN_BACKLOG, 4096);
  const tcpDefault = await backlogOf(tcpListen({ host: "127.0.0.1", port: 0 }));
  if (tcpDefault === undefined) {
    t.skip("ss is not available");
    return;
  }
  assert.equal(tcpDefault, expectedDefault, "tcpListen default");
  assert.equal(
    await backlogOf(tlsListen({ host: "127.0.0.1", port: 0, cert: certPem, key: keyPem })),
    expectedDefault,
    "tlsListen default",
  );
  assert.equal(await backlogOf(tcpListen({ host: "127.0.0.1", port: 0, backlog: 37 })), 37);
  assert.equal(
    await backlogOf(
      tlsListen({ host: "127.0.0.1", port: 0, backlog: 511, cert: certPem, key: keyPem }),
    ),
    511,
  );
});
