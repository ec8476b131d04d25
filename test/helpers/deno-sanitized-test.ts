/**
 * `Deno.test` with the resource and op sanitizers on, for the Deno-only tests (`test/deno/`): each
 * case then proves nothing (conn, listener, pending read or accept, timer) is left behind.
 * Sanitizers are opt-in in this Deno, so they are asked for explicitly. `Deno` is typed locally so
 * Node's type-check passes; calling this outside Deno throws.
 *
 * @module
 */

interface DenoTest {
  test(definition: {
    name: string;
    fn: () => Promise<void> | void;
    sanitizeOps: boolean;
    sanitizeResources: boolean;
  }): void;
}

/** Registers `fn` as a sanitized `Deno.test` called `name`. */
export function denoSanitizedTest(name: string, fn: () => Promise<void> | void): void {
  const deno = (globalThis as unknown as { Deno?: DenoTest }).Deno;
  if (deno === undefined) throw new Error(`${name}: this test runs under Deno only`);
  deno.test({ name, fn, sanitizeOps: true, sanitizeResources: true });
}

/** Registers each `{ title, body }` as a sanitized `Deno.test` called `<prefix>: <title>`. */
export function denoSanitizedTests(
  prefix: string,
  cases: Iterable<{ readonly title: string; readonly body: () => Promise<void> }>,
): void {
  for (const { title, body } of cases) denoSanitizedTest(`${prefix}: ${title}`, body);
}
