/**
 * The page's way to the file service: a `ConnectionPool` of WebSocket sessions to the gateway
 * (each lease an exclusive session, so a download's connections are really parallel sockets),
 * authenticated with the gateway token when the page has one, and a typed file-service client
 * whose calls each lease a session for their duration.
 *
 * @module
 */

import { webSocketConnect } from "../../adapters/websocket/mod.ts";
import type { TransportClient } from "../../src/mod.ts";
import { ConnectionPool, transportConnector } from "../../src/pool/mod.ts";
import { type FileInfo, fileService } from "../../src/files/mod.ts";
import { gatewayTokenBootstrap } from "../../src/gateway/mod.ts";
import { pooledRpcTarget, serviceClient } from "../../src/rpc/mod.ts";
import type { DemoConfig } from "./demo-config.ts";

/** Deadline of one file-service call (listing, opening). */
const CALL_TIMEOUT_MS = 15_000;

export class GatewayFiles {
  readonly pool: ConnectionPool<TransportClient>;
  /** The pool's route for the gateway target (the pool keys connections by it). */
  readonly route: string;
  readonly url: string;

  constructor(config: DemoConfig) {
    this.url = config.gatewayUrl;
    this.route = `gateway:${config.target}`;
    const connect = webSocketConnect({ url: config.gatewayUrl });
    this.pool = new ConnectionPool<TransportClient>({
      connector: transportConnector(() => connect),
      // One lease per session: N leases are N WebSockets, N backend connections.
      maxStreamsPerConnection: 1,
      maxPerRoute: 16,
      // The gateway answers for its backend; an idle session is simply closed and reopened.
      validateAfterInactivityMs: 0,
      idleTimeoutMs: 30_000,
      bootstraps: config.token === undefined ? [] : [gatewayTokenBootstrap(config.token)],
    });
  }

  /** The files the service offers. */
  async list(signal?: AbortSignal): Promise<FileInfo[]> {
    const files = serviceClient(fileService, pooledRpcTarget(this.pool, this.route));
    return await files.list(undefined, {
      timeoutMs: CALL_TIMEOUT_MS,
      ...(signal ? { signal } : {}),
    });
  }

  /** Closes every session. */
  close(): Promise<void> {
    return this.pool.close();
  }
}
