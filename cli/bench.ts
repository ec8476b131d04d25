/**
 * `ferry bench [bench options]`: runs the benchmark suite (`bench/run.ts`, under Node with tsx)
 * and prints its table. Options after `bench` go to the suite (`--help` shows them).
 *
 * @module
 */

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";

const runner = fileURLToPath(new URL("../bench/run.ts", import.meta.url));
const root = fileURLToPath(new URL("..", import.meta.url));

export const benchUsage = `Usage: ferry bench [options]

Runs Ferry's benchmark suite against baselines it starts itself (raw sockets, ws, gRPC, …) and
prints one table: case, unit, ferry, baseline, ratio, target. Takes minutes; the machine should
be quiet. Options are the suite's own (they follow this text).`;

export function benchCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) console.log(benchUsage + "\n");
  if (!existsSync(runner)) {
    // The npm package ships the library and the CLI, not the suite and its baselines.
    console.error(
      `ferry bench: the benchmark suite (${runner}) is not here: it is part of a checkout of ` +
        `Ferry's repository, not of the installed package`,
    );
    return Promise.resolve(1);
  }
  const node = "Deno" in globalThis ? "node" : process.execPath;
  return new Promise((resolve) => {
    const child = spawn(node, ["--import", "tsx", runner, ...argv], {
      cwd: root,
      stdio: "inherit",
    });
    child.on("error", (error) => {
      console.error(`ferry bench: cannot run ${runner}: ${error.message}`);
      resolve(1);
    });
    child.on("exit", (code, signal) => resolve(code ?? (signal === null ? 1 : 128 + 2)));
  });
}
