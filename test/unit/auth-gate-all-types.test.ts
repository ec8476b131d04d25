/**
 * Shared-secret gate: before a connection authenticates, each of the 13 message types is refused
 * and reaches neither the RpcHandler nor the StreamManager; requests get a failure reply saying
 * authentication is required. The scenario is test/helpers/gate-all-types.ts.
 */
import { test } from "node:test";
import { SharedSecretServer } from "../../src/auth/shared-secret-server.ts";
import { checkEveryTypeRefusedBeforeAuth } from "../helpers/gate-all-types.ts";

test("before authentication every message type is refused and no handler is called", () =>
  checkEveryTypeRefusedBeforeAuth(
    new SharedSecretServer({ secret: "correct horse battery staple", authTimeoutMs: 0 }),
    "auth gate",
    /Ferry authentication required: \w+ refused/,
  ));
