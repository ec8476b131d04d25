/**
 * The request of the raw blast baselines (Node `node:net`, `ws`, Deno): `count:uint32 BE,
 * size:uint32 BE` asks for `count` buffers of `size` bytes. No runtime code, so Deno uses it too.
 *
 * @module
 */

/** Request size: count and size, both uint32 BE. */
export const blastRequestBytes = 8;
/** Largest buffer size the blast servers accept. */
export const maxBlastBufferBytes = 64 * 1024 * 1024;
