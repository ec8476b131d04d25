// What "without instrumentation" means for the `observability-cost` bench case: the source of
// Ferry with every hook into `src/observability/` that a connection, a client, a server or the
// request handler runs removed, as if the instrumentation had never been written. Each edit must
// match its file exactly as often as listed, or loading fails: a refactor of those lines must
// update this list rather than silently turn the baseline into the instrumented code.
//
// Removed: the per-message `tap` calls and checks of `Connection` and its `ConnectionReader`
// (send, sendRpc, sendWithBody, dispatch,
// the RPC fast paths' conditions, the first-byte mark in decode), the client's
// `observeConnection` (per connection: the connection counters, the live set, the tap decision),
// the server's budget and refusal hooks and its `asServerSide` wrapper. (The chunk trace context
// is an extension, `src/extensions/`, installed as an interceptor: a server without it runs no
// check for it.) The modules stay imported (loading them is not part of the measured work).

const edits = {
  "src/connection/connection.ts": [
    ["    this.tap?.sent(message);\n", "", 2],
    [
      "    if (this.tap !== undefined) {\n" +
      "      this.send({ type, requestId, body });\n" +
      "      return;\n" +
      "    }\n",
      "",
      1,
    ],
  ],
  "src/connection/connection-reader.ts": [
    ["    connection.tap?.received(message);\n", "", 1],
    [
      "connection.interceptor !== undefined || connection.tap !== undefined ||",
      "connection.interceptor !== undefined ||",
      2,
    ],
    [
      "      if (\n" +
      '        connection.tap !== undefined && decoder.midFrame && decoder.state !== "stream-body"\n' +
      "      ) connection.tap.frameStarted?.();\n",
      "",
      1,
    ],
  ],
  "src/client/transport-client.ts": [
    ["    this.#connection.tap = observeConnection(this, socket.info);\n", "", 1],
  ],
  "src/client/prepared-options.ts": [
    ["  observeConnectionEnded(owner as TransportClient, closed);\n", "", 1],
  ],
  "src/server/transport-server.ts": [
    ["    observeServerBudget(this.#budget);\n", "", 1],
    [
      "client = asServerSide(() => new TransportClient(socket, this.#options));",
      "client = new TransportClient(socket, this.#options);",
      1,
    ],
    [
      '      observeRefusedConnection(socket?.info?.remoteAddress ?? "unknown peer", error);\n',
      "",
      1,
    ],
  ],
};

/** `source` of `file` (an absolute path) with its instrumentation removed, if it has any. */
export function stripObservability(file, source) {
  const normalized = file.replaceAll("\\", "/");
  const entry = Object.entries(edits).find(([path]) => normalized.endsWith(`/${path}`));
  if (entry === undefined) return source;
  const [path, fileEdits] = entry;
  let out = source;
  for (const [find, replace, expected] of fileEdits) {
    const found = out.split(find).length - 1;
    if (found !== expected) {
      throw new Error(
        `without-observability: ${path} has ${found} of ${JSON.stringify(find.slice(0, 60))}, ` +
          `expected ${expected}: update bench/harness/without-observability.mjs`,
      );
    }
    out = out.replaceAll(find, replace);
  }
  return out;
}

/** The files edited (for a check that every one of them is loaded). */
export const strippedFiles = Object.keys(edits);
