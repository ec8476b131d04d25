/**
 * What an interop client prints when every interop check (`docs/interop.md`) passes (`interop/client.ts`, the
 * browser pages): `PASS <name>` per check in order, then the summary. The count is written out,
 * not derived, so a check that goes missing fails the tests that compare against this.
 *
 * @module
 */

import { interopCheckNames } from "../../interop/checks.ts";

export const allPassLines: readonly string[] = [
  ...interopCheckNames.map((name) => `PASS ${name}`),
  "17 passed, 0 failed",
];
