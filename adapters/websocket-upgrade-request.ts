/**
 * What a WebSocket listener's `allowUpgrade` hook sees of an upgrade request (Node and Deno). The
 * type itself is part of the socket contract (`src/socket.ts`), so runtime-neutral code such as
 * the gateway can use it; it is re-exported here beside the runtimes, like `tcp-options.ts`.
 *
 * @module
 */

export type { AcceptContext, UpgradeRequest } from "../src/socket.ts";
