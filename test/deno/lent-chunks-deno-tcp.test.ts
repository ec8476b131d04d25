/**
 * Lent chunk bodies over real loopback TCP under Deno (`adapters/deno`), where they matter most
 * (Deno cannot allocate without zero-filling): the shared cases in
 * `test/helpers/lent-chunk-scenarios.ts`, each a `Deno.test` with the resource and op sanitizers on.
 */

import { tcpConnect, tcpListen } from "../../adapters/deno/mod.ts";
import { denoSanitizedTests } from "../helpers/deno-sanitized-test.ts";
import { lentChunkScenarios } from "../helpers/lent-chunk-scenarios.ts";

const scenarios = lentChunkScenarios({
  listen: () => tcpListen({ host: "127.0.0.1", port: 0 }),
  connect: (port) => tcpConnect({ host: "127.0.0.1", port }),
});

denoSanitizedTests("lent chunks over deno tcp", scenarios);
