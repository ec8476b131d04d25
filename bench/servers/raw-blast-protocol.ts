/**
 * The request of the raw blast baselines (Node `node:net`, `ws`, Deno): `count:uint32 BE,
 * size:uint32 BE` asks for `count` buffers of `size` bytes. No runtime code, so Deno uses it too.
 *
 * @module
 */

/** Request size: count and size, both uint32 BE. */
export const blastRequestBytes = 8;
/**
 * Queued bytes (`bufferedAmount`) above which every WebSocket sender in the bench waits: the raw
 * blasts and Ferry's WebSocket listeners use the same mark, so their comparison is like for like.
 */
export const webSocketHighWaterMark = 4 * 1024 * 1024;
/** Largest buffer size the blast servers accept. */
export const maxBlastBufferBytes = 64 * 1024 * 1024;
