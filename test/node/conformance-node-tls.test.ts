import { tlsConnect, tlsListen } from "../../adapters/node/mod.ts";
import { generateSelfSignedCertificate } from "../../src/tls/self-signed-certificate.ts";
import { runSocketConformance } from "../conformance/socket-suite.ts";

const { certPem, keyPem } = await generateSelfSignedCertificate();

runSocketConformance("node tls", {
  listen: (options) =>
    tlsListen({ host: "127.0.0.1", port: 0, cert: certPem, key: keyPem, ...options }),
  connect: (address, options) =>
    tlsConnect({ host: address.host, port: address.port, ca: certPem, ...options }),
  // Node cannot send an RST under TLS (resetting the handle under TLSWrap crashes the process).
  resetReachesPeer: false,
});
