/**
 * Typed services over msgpackr: define a service once (`defineService`, `method`), serve it
 * (`ServiceRouter`, an `RpcHandler`), call it (`serviceClient`). See `rpc-envelope.ts` for the
 * bytes and `rpc-codec.ts` for the msgpack configuration.
 *
 * @module
 */

export {
  type AnyMethod,
  defineService,
  method,
  type MethodDefinition,
  type MethodMap,
  type ParamsOf,
  type ResultOf,
  type ServiceCallContext,
  type ServiceClient,
  type ServiceDefinition,
  type ServiceImplementation,
} from "./service-definition.ts";
export { ServiceRouter, type ServiceRouterOptions } from "./service-router.ts";
export {
  pooledRpcTarget,
  type RpcTarget,
  serviceClient,
  type ServiceClientOptions,
} from "./service-client.ts";
export { RpcErrorCode, ServiceError } from "./rpc-errors.ts";
export {
  decodeServiceReply,
  decodeServiceRequest,
  encodeServiceFailure,
  encodeServiceRequest,
  encodeServiceSuccess,
  type ServiceReply,
  type ServiceRequest,
} from "./rpc-envelope.ts";
export { decodePayload, encodePayload } from "./rpc-codec.ts";
export {
  DEFAULT_SERVICE_DECODE_LIMITS,
  scanMsgpack,
  type ServiceDecodeLimits,
} from "./msgpack-scanner.ts";
