/**
 * `FERRY_PEER_FEATURE`: the peer feature that says "this peer is a Ferry server: Ferry's control
 * messages (ping, cancel, trace context) are safe to send it". A plain Spark server would hand
 * them to its application, so every extension's client side runs only for peers with it — set per
 * route (`routes: { key: { peerFeatures: ["ferry"] } }`) or learned when Ferry's shared-secret
 * authentication succeeds (only a Ferry server completes it).
 *
 * @module
 */

/** The peer feature naming a Ferry server (pool `peerFeatures`). */
export const FERRY_PEER_FEATURE = "ferry";
