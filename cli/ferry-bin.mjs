#!/usr/bin/env node
// The package's `ferry` bin. Installed from npm, the package carries the CLI compiled to
// JavaScript (`dist/cli/`, built by `npm pack`) and no TypeScript sources, so this runs that: no
// TypeScript runner at run time. It runs the bundle (`scripts/build-cli.ts`: a few files instead
// of ~120 modules, a third less start-up), else the per-module build. In a checkout the sources
// are here, and they win over a `dist/` that may be stale: tsx (a devDependency, resolved next to
// this file so any working directory works) runs cli/ferry.ts directly, so `npm ci && npm start`
// needs no build step.
import { existsSync } from "node:fs";

if (existsSync(new URL("./ferry.ts", import.meta.url))) {
  const { register } = await import("tsx/esm/api");
  register();
  await import("./ferry.ts");
} else if (existsSync(new URL("../dist/cli/ferry-bundle.js", import.meta.url))) {
  await import("../dist/cli/ferry-bundle.js");
} else {
  await import("../dist/cli/ferry.js");
}
