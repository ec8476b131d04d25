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

/** The request for `count` buffers of `size` bytes. */
export function encodeBlastRequest(count: number, size: number): Uint8Array {
  const request = new Uint8Array(blastRequestBytes);
  const view = new DataView(request.buffer);
  view.setUint32(0, count);
  view.setUint32(4, size);
  return request;
}

/** Reads the request at `offset` of `bytes` (which must hold `blastRequestBytes` from there). */
export function decodeBlastRequest(
  bytes: Uint8Array,
  offset = 0,
): { readonly count: number; readonly size: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, blastRequestBytes);
  return { count: view.getUint32(0), size: view.getUint32(4) };
}

/** Why a server refuses buffers of `size` bytes, or undefined when it serves them. */
export function blastSizeProblem(size: number): string | undefined {
  return size === 0 || size > maxBlastBufferBytes
    ? `buffer size ${size} is outside 1..${maxBlastBufferBytes}`
    : undefined;
}
