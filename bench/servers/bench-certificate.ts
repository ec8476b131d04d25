/**
 * The bench server process's TLS identity: one self-signed certificate for 127.0.0.1, generated
 * on first use and shared by every TLS server of the process. Clients get it with the
 * `certificate` RPC of the Ferry bench protocol (see `ferry-bench-protocol.ts`) and trust it as
 * their CA, so TLS runs with full verification, as in production.
 *
 * @module
 */

import {
  generateSelfSignedCertificate,
  type SelfSignedCertificate,
} from "../../src/tls/self-signed-certificate.ts";

let certificate: Promise<SelfSignedCertificate> | undefined;

/** The process's certificate and key (generated once). */
export function benchCertificate(): Promise<SelfSignedCertificate> {
  certificate ??= generateSelfSignedCertificate({ altNames: ["127.0.0.1", "localhost"] });
  return certificate;
}
