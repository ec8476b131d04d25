/**
 * Spark's SASL authentication (DIGEST-MD5, `spark.authenticate=true`) with optional SASL
 * encryption (qop auth-conf, 3DES): the client bootstrap, the server gate and the socket layer
 * that encrypts. See `docs/spark-sasl.md`.
 *
 * @module
 */

export {
  type SaslCapableClient,
  type SparkSaslBootstrap,
  sparkSaslBootstrap,
  type SparkSaslClientOptions,
} from "./spark-sasl-bootstrap.ts";
export { SparkSaslServer, type SparkSaslServerOptions } from "./spark-sasl-server.ts";
export { saslLayerOf, type SaslLayerOptions, SaslSocket, withSaslLayer } from "./sasl-socket.ts";
export { SaslIntegrityError } from "./sasl-cipher.ts";
