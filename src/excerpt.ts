/**
 * Short excerpts of peer input for error messages and logs: a failure reply or a log line carries
 * at most a few dozen characters of what the peer sent, with the full length noted, so an 8 MiB
 * service name cannot become an 8 MiB (or, JSON-escaped, 48 MiB) reply.
 *
 * @module
 */

/** How many characters of a peer-sent name or value an error message quotes. */
export const EXCERPT_CHARS = 64;

/** How many characters of an error's description a failure reply or log line carries. */
export const DETAIL_CHARS = 256;

/**
 * `text` itself when it has at most `max` characters; else its first `max` characters (never half
 * a surrogate pair), "…" and the full length.
 */
export function excerpt(text: string, max: number = EXCERPT_CHARS): string {
  if (text.length <= max) return text;
  let cut = max;
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut--;
  return `${text.slice(0, cut)}… (${text.length} characters)`;
}

/** A peer-sent name, quoted as JSON after being cut to an excerpt. */
export function quoteExcerpt(text: string, max: number = EXCERPT_CHARS): string {
  if (text.length <= max) return JSON.stringify(text);
  let cut = max;
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut--;
  return `${JSON.stringify(text.slice(0, cut))}… (${text.length} characters)`;
}
