/**
 * The code a TLS client reports when it refuses a self-signed server certificate it was not told
 * to trust. Node (OpenSSL) says `DEPTH_ZERO_SELF_SIGNED_CERT`; Bun (BoringSSL) reports the same
 * refusal as `UNABLE_TO_VERIFY_LEAF_SIGNATURE`. Tests run by both expect the one of the runtime
 * running them, so each stays exact.
 *
 * @module
 */

export const selfSignedRefusalCode: string = "Bun" in globalThis
  ? "UNABLE_TO_VERIFY_LEAF_SIGNATURE"
  : "DEPTH_ZERO_SELF_SIGNED_CERT";
