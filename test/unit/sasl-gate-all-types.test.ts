/**
 * Spark SASL gate: before a connection authenticates, each of the 13 message types is refused and
 * reaches neither the RpcHandler nor the StreamManager (Spark itself serves StreamRequest and
 * ChunkFetchRequest before authentication; Ferry does not); requests get a failure reply in
 * Spark's words ("Expected SaslMessage…"). The scenario is test/helpers/gate-all-types.ts.
 */
import { test } from "node:test";
import { SparkSaslServer } from "../../src/sasl/spark-sasl-server.ts";
import { checkEveryTypeRefusedBeforeAuth } from "../helpers/gate-all-types.ts";

test("before SASL authentication every message type is refused and no handler is called", () =>
  checkEveryTypeRefusedBeforeAuth(
    new SparkSaslServer({ secret: "correct horse battery staple", authTimeoutMs: 0 }),
    "spark sasl gate",
    /Expected SaslMessage.*: \w+ refused before SASL authentication/,
  ));
