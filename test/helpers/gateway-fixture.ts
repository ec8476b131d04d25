/**
 * A gateway in memory for unit tests: an interop server on a memory network as the backend, a
 * counting connector (every outbound connect the gateway makes goes through it), and browsers as
 * memory socket pairs whose gateway end records the error it was closed with (so a test can read
 * the close code a real WebSocket would have carried).
 */

import { TransportClient } from "../../src/client/transport-client.ts";
import { Gateway } from "../../src/gateway/gateway.ts";
import type { GatewayOptions } from "../../src/gateway/gateway-options.ts";
import type { InboundInterceptor } from "../../src/client/client-options.ts";
import { chainInterceptors } from "../../src/client/chain-interceptors.ts";
import { ferryPingResponder } from "../../src/extensions/ferry-ping.ts";
import type { TransportServer } from "../../src/server/transport-server.ts";
import type { Connect, Socket, UpgradeRequest } from "../../src/socket.ts";
import { createInteropServer } from "../../interop/interop-handler.ts";
import { ForwardingSocket } from "./forwarding-socket.ts";
import { memoryNetwork, memorySocketPair } from "./memory-socket.ts";

export const ORIGIN = "https://app.example";

/** The gateway end of a browser pair, recording how the gateway closed it. */
export class RecordingSocket extends ForwardingSocket {
  closeError: unknown = undefined;
  closeCalls = 0;

  override close(error?: unknown): void {
    if (this.closeCalls++ === 0) this.closeError = error;
    super.close(error);
  }
  /** The close code a WebSocket adapter would send for the recorded error. */
  get closeCode(): number | undefined {
    const error = this.closeError as { closeCode?: number } | undefined;
    return error?.closeCode;
  }
}

export interface MemoryGateway {
  readonly gateway: Gateway;
  readonly server: TransportServer;
  /** Outbound connects the gateway made so far. */
  connects(): number;
  /** Opens a browser session; `accepted` says whether `allowUpgrade` let it through. */
  open(
    options?: Partial<UpgradeRequest>,
  ): { browser: Socket; edge: RecordingSocket; accepted: boolean };
  /** Opens a session and wraps the browser end in a TransportClient. */
  client(options?: Partial<UpgradeRequest>): { client: TransportClient; edge: RecordingSocket };
  /** Server-side sockets of backend connections, in accept order. */
  readonly backendSockets: Socket[];
  close(): Promise<void>;
}

export interface MemoryGatewayExtras {
  /** The memory network's high-water mark (backend side). */
  readonly backendHighWaterMark?: number;
  /** Features of the backend target, e.g. `["ferry"]` to run the heartbeat. */
  readonly peerFeatures?: readonly string[];
  /** Sees the backend server's inbound messages first (to script replies the handler lacks). */
  readonly interceptor?: InboundInterceptor;
}

export async function memoryGateway(
  options: Partial<GatewayOptions> = {},
  extras: MemoryGatewayExtras = {},
): Promise<MemoryGateway> {
  const { backendHighWaterMark, peerFeatures, interceptor } = extras;
  const network = memoryNetwork(
    backendHighWaterMark === undefined ? {} : { highWaterMark: backendHighWaterMark },
  );
  const server = createInteropServer({
    interceptor: chainInterceptors(interceptor, ferryPingResponder),
  });
  const backendSockets: Socket[] = [];
  await server.listen((onSocket) =>
    network.listen((socket) => {
      backendSockets.push(socket);
      onSocket(socket);
    })
  );
  let connects = 0;
  const counting: Connect = (connectOptions) => {
    connects++;
    return network.connect(connectOptions);
  };
  const gateway = new Gateway({
    targets: { interop: { connect: counting, ...(peerFeatures ? { peerFeatures } : {}) } },
    allowedOrigins: [ORIGIN],
    backend: { heartbeat: false },
    ...options,
  });
  const open = (request: Partial<UpgradeRequest> = {}) => {
    const [browser, gatewayEnd] = memorySocketPair({ label: "browser" });
    const edge = new RecordingSocket(gatewayEnd);
    const upgrade: UpgradeRequest = {
      url: "/gateway/interop",
      origin: ORIGIN,
      headers: {},
      remoteAddress: "192.0.2.1:50000",
      ...request,
    };
    const accepted = gateway.allowUpgrade(upgrade);
    gateway.accept(edge, upgrade);
    return { browser, edge, accepted };
  };
  return {
    gateway,
    server,
    connects: () => connects,
    open,
    client: (request) => {
      const { browser, edge } = open(request);
      return { client: new TransportClient(browser), edge };
    },
    backendSockets,
    close: async () => {
      await gateway.close();
      await server.close();
    },
  };
}
