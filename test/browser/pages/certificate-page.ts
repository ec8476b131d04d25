/**
 * Browser page module: generates a self-signed certificate with Chromium's WebCrypto, for the
 * test to inspect with Node's OpenSSL.
 *
 * @module
 */

import {
  generateSelfSignedCertificate,
  type SelfSignedCertificate,
} from "../../../src/tls/self-signed-certificate.ts";

export async function generateCertificate(commonName: string): Promise<SelfSignedCertificate> {
  return await generateSelfSignedCertificate({ commonName, altNames: ["ferry.test", "::1"] });
}
