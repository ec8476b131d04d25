/**
 * Shared-secret authentication end to end over the real engine (in memory): the pool's client
 * bootstrap against the server gate.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { sharedSecretBootstrap } from "../../../src/auth/shared-secret-bootstrap.ts";
import { SharedSecretServer } from "../../../src/auth/shared-secret-server.ts";
import { TransportClient } from "../../../src/client/transport-client.ts";
import { AuthError, InvalidArgumentError, RemoteError } from "../../../src/errors.ts";
import { ConnectionPool } from "../../../src/pool/connection-pool.ts";
import { ControlKind, encodeControl } from "../../../src/protocol/ferry-control.ts";
import { transportConnector } from "../../../src/pool/transport-connector.ts";
import type { Connect } from "../../../src/socket.ts";
import { readAll, settle } from "../../helpers/engine-fixtures.ts";
import { FakeClock } from "../../helpers/fake-clock.ts";
import { startServer } from "./pool-fixtures.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const secret = "correct horse battery staple";

function authedPool(connect: Connect, principal: string, key: string) {
  return new ConnectionPool<TransportClient>({
    connector: transportConnector(() => connect),
    bootstraps: [sharedSecretBootstrap({ principal, secret: key })],
  });
}

test("a client holding the secret authenticates; the handler sees only its real calls", async () => {
  const failures: unknown[] = [];
  const gate = new SharedSecretServer({
    secretFor: (principal) => (principal === "app-1" ? secret : undefined),
    onAuthFailure: (_address, reason) => failures.push(reason),
  });
  const { server, connect, handler } = await startServer((options) => gate.serverOptions(options));
  const pool = authedPool(connect, "app-1", secret);
  {
    await using lease = await pool.lease("server");
    assert.equal(text(await lease.client.sendRpc(utf8("hello"))), "hello");
    lease.client.send(utf8("note"));
    assert.equal(text(await lease.client.uploadStream(utf8("up"), utf8("body"))), "up");
  }
  await settle();
  assert.deepEqual(handler.calls, ["rpc hello", "oneway note", "upload up"]);
  const [serverSide] = [...server.connections];
  assert.equal(gate.principalOf(serverSide!), "app-1");
  assert.equal(gate.isAuthenticated(serverSide!), true);
  assert.deepEqual(failures, []);
  await pool.close();
  await server.close();
});

test("a wrong secret fails the lease with AuthError and reaches nothing", async () => {
  const failures: unknown[] = [];
  const gate = new SharedSecretServer({
    secret,
    onAuthFailure: (_a, reason) => failures.push(reason),
  });
  const { server, connect, handler } = await startServer((options) => gate.serverOptions(options));
  const pool = authedPool(connect, "app-1", "a different secret, long enough");
  await assert.rejects(pool.lease("server"), (error: unknown) => {
    assert.ok(error instanceof AuthError);
    assert.match(
      error.message,
      /as 'app-1' failed: the server did not prove it holds the shared secret/,
    );
    return true;
  });
  assert.deepEqual(handler.calls, []);
  assert.equal(pool.stats().total.connections, 0);
  await pool.close();
  await server.close();
});

test("an unknown principal fails like a wrong secret; the server learns the real reason", async () => {
  const failures: unknown[] = [];
  const gate = new SharedSecretServer({
    secretFor: () => undefined,
    onAuthFailure: (_a, reason) => failures.push(reason),
  });
  const { server, connect, handler } = await startServer((options) => gate.serverOptions(options));
  const pool = authedPool(connect, "nobody", secret);
  await assert.rejects(pool.lease("server"), AuthError);
  await settle();
  assert.match(String((failures[0] as Error | undefined)?.message), /Unknown principal 'nobody'/);
  assert.deepEqual(handler.calls, []);
  await pool.close();
  await server.close();
});

test("before authenticating, every other message is refused and never reaches the handler", async () => {
  const gate = new SharedSecretServer({ secret, authTimeoutMs: 0 });
  const { server, connect, handler, streams } = await startServer((options) =>
    gate.serverOptions(options)
  );
  const client = await TransportClient.connect(connect);
  const refused = (error: unknown) => {
    assert.ok(error instanceof RemoteError);
    assert.match(error.remoteMessage, /Ferry authentication required: \w+ refused/);
    return true;
  };
  await assert.rejects(client.sendRpc(utf8("sneaky")), refused);
  await assert.rejects(client.fetchChunk(1, 0), refused);
  await assert.rejects(
    client.stream("gen:10").then((s) => readAll(s as ReadableStream<Uint8Array>)),
    refused,
  );
  await assert.rejects(client.uploadStream(utf8("meta"), utf8("body")), refused);
  await assert.rejects(client.sendRpc(encodeControl(ControlKind.Ping, new Uint8Array(8))), refused);
  client.send(utf8("dropped"));
  await settle();
  assert.deepEqual(handler.calls, []);
  assert.deepEqual(streams.requests, []);
  assert.equal(client.isActive, true, "refusals alone do not close the connection");
  await client.close();
  await server.close();
});

test("an out-of-order proof fails the exchange and closes the connection", async () => {
  const gate = new SharedSecretServer({ secret });
  const { server, connect, handler } = await startServer((options) => gate.serverOptions(options));
  const client = await TransportClient.connect(connect);
  await assert.rejects(
    client.sendRpc(encodeControl(ControlKind.AuthProof, new Uint8Array(32))),
    /Ferry authentication failed/,
  );
  await client.closed;
  assert.deepEqual(handler.calls, []);
  await server.close();
});

test("a connection that does not authenticate in time is closed", async () => {
  const clock = new FakeClock();
  const gate = new SharedSecretServer({ secret, authTimeoutMs: 20, clock });
  const { server, connect } = await startServer((options) => gate.serverOptions(options));
  const client = await TransportClient.connect(connect);
  // The deadline runs on the gate's clock: 19 ms of silence are allowed, the 20th is not.
  await settle();
  clock.advance(19);
  await settle();
  assert.equal(client.isActive, true, "open until authTimeoutMs has passed");
  clock.advance(1);
  await client.closed;
  assert.equal(client.isActive, false);
  await server.close();
});

test("authenticating to a server without the gate fails clearly (an echo is not a challenge)", async () => {
  const { server, connect, handler } = await startServer();
  const pool = authedPool(connect, "app-1", secret);
  await assert.rejects(
    pool.lease("server"),
    /expected a Ferry auth challenge, received \d+ bytes \(f5/,
  );
  assert.deepEqual(handler.calls, ["rpc control:10"], "a plain server's handler sees the hello");
  await pool.close();
  await server.close();
});

test("bad auth configuration is refused up front", () => {
  assert.throws(
    () => sharedSecretBootstrap({ principal: "p", secret: "short" }),
    InvalidArgumentError,
  );
  assert.throws(
    () => sharedSecretBootstrap({ principal: "", secret }),
    /principal must be a non-empty string/,
  );
  assert.throws(() => new SharedSecretServer({}), /exactly one of secret and secretFor/);
  assert.throws(
    () => new SharedSecretServer({ secret, secretFor: () => secret }),
    /exactly one of secret and secretFor/,
  );
  assert.throws(
    () => new SharedSecretServer({ secret: new Uint8Array(8) }),
    /at least 16 bytes, received 8 bytes/,
  );
});
