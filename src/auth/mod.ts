/**
 * Shared-secret authentication: the client bootstrap for the pool and the server gate.
 *
 * @module
 */

export {
  type SharedSecretBootstrap,
  sharedSecretBootstrap,
  type SharedSecretClientOptions,
} from "./shared-secret-bootstrap.ts";
export { SharedSecretServer, type SharedSecretServerOptions } from "./shared-secret-server.ts";
export { MIN_SECRET_LENGTH, type SharedSecret } from "./shared-secret-protocol.ts";
