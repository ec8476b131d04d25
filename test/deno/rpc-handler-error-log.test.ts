/**
 * Under Deno with the op sanitizer on: a server whose default handler-error log is suppressing
 * (and so has its summary timer armed) leaves no timer behind once it is closed, and the summary
 * line is written at close.
 */

import assert from "node:assert/strict";
import { TransportClient } from "../../src/client/transport-client.ts";
import { defineService, encodeServiceRequest, method, ServiceRouter } from "../../src/rpc/mod.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { denoSanitizedTest } from "../helpers/deno-sanitized-test.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";

const echo = defineService("log.echo", { echo: method<unknown, unknown>() });

denoSanitizedTest("a closed server leaves no handler-error summary timer behind", async () => {
  const server = new TransportServer({
    rpcHandler: new ServiceRouter().serve(echo, { echo: (value) => value }),
  });
  const [a, b] = memorySocketPair();
  server.accept(b);
  const client = new TransportClient(a);
  const warn = console.warn;
  const lines: string[] = [];
  console.warn = (...args: unknown[]) => void lines.push(args.join(" "));
  try {
    // One-way messages make a router without a fallback fail: 50 failures, 10 lines, a timer.
    for (let i = 0; i < 50; i++) client.send(Uint8Array.of(1));
    await client.sendRpc(encodeServiceRequest("log.echo", "echo", 1));
    assert.equal(lines.length, 10);
    await client.close();
    await server.close();
  } finally {
    console.warn = warn;
  }
  assert.equal(lines.length, 11);
  assert.match(lines[10]!, /… 40 more handler failures suppressed/);
  assert.deepEqual(server.handlerErrors, { reported: 50, logged: 10, suppressed: 40 });
});
