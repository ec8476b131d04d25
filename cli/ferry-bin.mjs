#!/usr/bin/env node
// The package's `ferry` bin: registers tsx (resolved next to this file, so it works from any
// working directory) and runs the TypeScript entry, cli/ferry.ts.
import { register } from "tsx/esm/api";

register();
await import("./ferry.ts");
