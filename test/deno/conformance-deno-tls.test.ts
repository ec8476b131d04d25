/**
 * The socket conformance suite on Deno's TLS adapter, each case a `Deno.test` with the resource
 * and op sanitizers on.
 */
import { tlsConnect, tlsListen } from "../../adapters/deno/mod.ts";
import { generateSelfSignedCertificate } from "../../src/tls/self-signed-certificate.ts";
import { socketConformanceCases } from "../conformance/socket-suite.ts";
import { denoSanitizedTests } from "../helpers/deno-sanitized-test.ts";

const { certPem, keyPem } = await generateSelfSignedCertificate();

const cases = socketConformanceCases({
  listen: (options) =>
    tlsListen({ host: "127.0.0.1", port: 0, cert: certPem, key: keyPem, ...options }),
  connect: (address, options) =>
    tlsConnect({ host: address.host, port: address.port, ca: certPem, ...options }),
  // No SO_LINGER in Deno: a reset reaches the peer as a TCP end without TLS close_notify.
  resetReachesPeer: false,
});

denoSanitizedTests("socket conformance: deno tls", cases);
