/**
 * A stand-in browser for Node gateway tests: the `ws` package's WebSocket with an Origin header
 * (as a browser sends) that remembers the close code it received, wrapped into a Ferry
 * `TransportClient` through `webSocketConnect`.
 */

import WebSocket from "ws";
import { webSocketConnect, type WebSocketConstructor } from "../../adapters/websocket/connect.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { authenticateToGateway } from "../../src/gateway/gateway-token.ts";

/** A connected stand-in browser. */
export interface GatewayBrowser {
  readonly client: TransportClient;
  /** The close code received, once closed (1006 when the connection just dropped). */
  closeCode(): Promise<number>;
  /** The raw `ws` socket (to stop it answering pings, like a frozen tab). */
  readonly ws: WebSocket;
}

/** A `ws` constructor that sends `origin` and reports each socket it makes. */
function originWebSocket(origin: string | undefined, made: (ws: WebSocket) => void) {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, origin === undefined ? {} : { origin });
      made(this);
    }
  } as unknown as WebSocketConstructor;
}

/** Opens a browser session at `url`; with `token`, authenticates before resolving. */
export async function openGatewayBrowser(
  url: string,
  options: { origin?: string; token?: string; timeoutMs?: number } = {},
): Promise<GatewayBrowser> {
  let ws: WebSocket | undefined;
  let code: Promise<number> | undefined;
  const connect = webSocketConnect({
    url,
    WebSocket: originWebSocket(options.origin, (made) => {
      ws = made;
      code = new Promise((resolve) =>
        made.once("close", (closeCode: number) => resolve(closeCode))
      );
    }),
  });
  const client = await TransportClient.connect(connect, { timeoutMs: options.timeoutMs ?? 10_000 });
  if (options.token !== undefined) {
    await authenticateToGateway(client, options.token, { timeoutMs: options.timeoutMs ?? 10_000 });
  }
  return { client, closeCode: () => code!, ws: ws! };
}

/** The close code a session at `url` ends with, when it is refused after the upgrade. */
export async function refusedCloseCode(url: string, origin: string): Promise<number> {
  const browser = await openGatewayBrowser(url, { origin });
  browser.client.sendRpc(new TextEncoder().encode("x")).catch(() => {});
  return await browser.closeCode();
}
