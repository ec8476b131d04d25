/**
 * Lists the test files that wait on real time — a `setTimeout` whose delay (its last argument) is
 * not `0`, or any `setInterval` — and prints how many there are. Comments and string literals are
 * ignored. Issue 16 asks for deadline tests on a fake clock (`test/helpers/fake-clock.ts`); this is
 * how the remaining sleepers are counted.
 *
 * Usage: `node --import tsx scripts/sleeping-tests.ts [root]`
 *
 * @module
 */

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import process from "node:process";

const root = process.argv[2] ?? ".";

function tsFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

/** Source without comments and with every string literal emptied. */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:"'`])\/\/.*$/gm, "$1")
    .replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, '""');
}

/** Whether `source` arms a timer that waits: any setInterval, or a setTimeout not of 0 ms. */
function sleeps(source: string): boolean {
  for (const match of source.matchAll(/\b(setTimeout|setInterval)\s*\(/g)) {
    if (match[1] === "setInterval") return true;
    const start = match.index! + match[0].length;
    let depth = 1;
    let lastArgument = start;
    let i = start;
    for (; i < source.length && depth > 0; i++) {
      const c = source[i]!;
      if ("([{".includes(c)) depth++;
      else if (")]}".includes(c)) depth--;
      else if (c === "," && depth === 1) lastArgument = i + 1;
    }
    const delay = lastArgument === start ? "" : source.slice(lastArgument, i - 1).trim();
    if (delay !== "" && delay !== "0") return true;
  }
  return false;
}

const sleepers = ["test/unit", "test/node", "test/deno"]
  .flatMap((dir) => tsFiles(join(root, dir)))
  .filter((file) => sleeps(code(readFileSync(file, "utf8"))))
  .map((file) => relative(root, file))
  .sort();
for (const file of sleepers) console.log(file);
console.log(`${sleepers.length} test files wait on real time`);
