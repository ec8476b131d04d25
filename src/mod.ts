/**
 * Ferry: one TypeScript transport for Node, Deno and browsers, byte-compatible with Apache Spark's
 * `network-common` wire protocol. This is the package's main entry, small enough to hold in one's
 * head: the errors, the client and the server, serving chunks and streams, the limits, the
 * interceptor mechanism extensions plug into, and Ferry's shared-secret auth. The larger parts have
 * entries of their own:
 *
 * - `ferry-transport/pool`: `ConnectionPool`, routes, leases, retrying fetches;
 * - `ferry-transport/extensions`: Ferry's ping, heartbeat, cancel and chunk trace context;
 * - `ferry-transport/rpc`: typed services over msgpack (`defineService`, `serviceClient`);
 * - `ferry-transport/files`: the file service and the verifying, resumable download;
 * - `ferry-transport/gateway`: the WebSocket gateway that lets browsers reach TCP servers;
 * - `ferry-transport/sasl`: Spark's SASL authentication and encryption;
 * - `ferry-transport/observability`: metric and event channel names, the event sink;
 * - `ferry-transport/protocol`: the codec (frame encoder and decoder, message types);
 * - `ferry-transport/node`, `/deno`, `/websocket`, `/wintertc`: the runtime adapters.
 *
 * `test/unit/public-api.test.ts` keeps this entry's value count within its budget.
 *
 * @module
 */

export * from "./errors.ts";
export type * from "./socket.ts";
export { defaultLimits, type Limits } from "./limits.ts";
export type { Clock, TimerHandle } from "./clock.ts";
export { type CallOptions, type DisposeDeadline, watchDeadline } from "./deadline.ts";
export {
  type ChunkFetchFailure,
  type ChunkFetchRequest,
  type ChunkFetchSuccess,
  type Int64,
  type MergedBlockMetaRequest,
  type MergedBlockMetaSuccess,
  type Message,
  MessageType,
  type OneWayMessage,
  type RequestMessage,
  type ResponseMessage,
  type RpcFailure,
  type RpcRequest,
  type RpcResponse,
  type StreamFailure,
  type StreamRequest,
  type StreamResponse,
  type UploadStream,
} from "./protocol/messages.ts";

export { TransportClient, type UploadOptions } from "./client/transport-client.ts";
export type { ChunkConsumer } from "./client/chunk-fetches.ts";
export type { RpcCallback } from "./client/rpc-callback.ts";
export type { ClientOptions, InboundInterceptor } from "./client/client-options.ts";
export { chainInterceptors } from "./client/chain-interceptors.ts";
export type { ClientStats } from "./client/client-stats.ts";
export type { ByteStream } from "./connection/inbound-body.ts";
export type { BodyData } from "./connection/body-source.ts";
export type { MergedBlockMeta } from "./connection/response-handler.ts";

export { TransportServer, type TransportServerOptions } from "./server/transport-server.ts";
export {
  CONNECTION_CAP_CLOSE_CODE,
  type ConnectionAdmissionStats,
  ConnectionCapError,
  type ConnectionCaps,
} from "./server/connection-admission.ts";
export type { Peer } from "./responder/peer.ts";
export type { RpcHandler } from "./responder/rpc-handler.ts";
export type { StreamBody, StreamManager } from "./responder/stream-manager.ts";
export { TransferBudget } from "./responder/transfer-budget.ts";
export { InboundFrameBudget } from "./connection/inbound-frame-budget.ts";
export type { HandlerErrorReporter } from "./responder/request-handler.ts";
export {
  HandlerErrorLog,
  type HandlerErrorLogOptions,
  type HandlerErrorLogStats,
} from "./responder/handler-error-log.ts";

export {
  type NamedStreamOpener,
  OneForOneStreamManager,
  type OneForOneStreamManagerOptions,
  type RegisterStreamOptions,
  type StreamManagerStats,
  type StreamOwner,
} from "./responder/one-for-one-stream-manager.ts";
export type { ChunkSource, RandomAccessChunkSource } from "./responder/chunk-source.ts";
export {
  ChunkIndexError,
  ChunkSourceError,
  UnknownStreamError,
} from "./responder/stream-errors.ts";
export { crc32 } from "./checksum/crc32.ts";

export {
  type SharedSecret,
  type SharedSecretBootstrap,
  sharedSecretBootstrap,
  type SharedSecretClientOptions,
  SharedSecretServer,
  type SharedSecretServerOptions,
} from "./auth/mod.ts";

export { webSocketOver } from "./websocket/client-connect.ts";
export type { WebSocketOverOptions } from "./websocket/client-connect.ts";
export { WebSocketProtocolError } from "./websocket/frame-parser.ts";
