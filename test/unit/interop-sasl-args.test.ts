/** The interop programs' Spark SASL options: --sasl-secret, --sasl-app-id, --sasl-encrypt. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseClientArgs, parseServerArgs } from "../../interop/args.ts";

test("--sasl-secret turns SASL on, with appId app-1 and no encryption by default", () => {
  assert.deepEqual(parseClientArgs(["127.0.0.1", "7337", "--sasl-secret", "s"]).sasl, {
    secret: "s",
    appId: "app-1",
    encrypt: false,
    appIdGiven: false,
  });
  assert.deepEqual(
    parseServerArgs(["0", "--sasl-encrypt", "--sasl-secret", "s", "--sasl-app-id", "a"]).sasl,
    { secret: "s", appId: "a", encrypt: true, appIdGiven: true },
  );
  // --sasl-encrypt takes no value: the next argument is still positional.
  const args = parseClientArgs(["--sasl-secret", "s", "--sasl-encrypt", "tcp://h:1"]);
  assert.equal(args.target.url, "tcp://h:1");
  assert.equal(args.sasl?.encrypt, true);
  assert.equal(parseClientArgs(["h", "1"]).sasl, undefined);
});

test("SASL options without a secret, or empty ones, are refused with the reason", () => {
  assert.throws(
    () => parseClientArgs(["h", "1", "--sasl-encrypt"]),
    /--sasl-encrypt needs --sasl-secret/,
  );
  assert.throws(() => parseServerArgs(["--sasl-app-id", "a"]), /--sasl-app-id needs --sasl-secret/);
  assert.throws(() => parseServerArgs(["--sasl-secret", ""]), /must not be empty/);
  assert.throws(() => parseClientArgs(["h", "1", "--sasl-secret"]), /needs a value/);
});
