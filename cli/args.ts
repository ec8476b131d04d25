/**
 * A small, strict flag parser for the CLI: `--name value`, `--name=value`, boolean `--flag`,
 * positionals; unknown flags and missing values are `UsageError`s (exit status 2).
 *
 * @module
 */

/** A mistake in how the command was called (printed with the command's usage, exit 2). */
export class UsageError extends Error {
  override get name(): string {
    return "UsageError";
  }
}

export interface FlagSpec {
  readonly [name: string]: "string" | "boolean";
}

export interface ParsedArgs {
  readonly flags: ReadonlyMap<string, string | true>;
  readonly positionals: readonly string[];
}

export function parseArgs(argv: readonly string[], spec: FlagSpec): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "-") {
      if (arg.startsWith("-") && arg !== "-" && arg !== "-h") {
        throw new UsageError(`unknown option ${arg}`);
      }
      if (arg === "-h") flags.set("help", true);
      else positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const kind = spec[name];
    if (kind === undefined) throw new UsageError(`unknown option --${name}`);
    if (kind === "boolean") {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags.set(name, true);
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === "") throw new UsageError(`--${name} needs a value`);
    flags.set(name, value);
  }
  return { flags, positionals };
}

/** A string flag's value or `fallback`. */
export function stringFlag(args: ParsedArgs, name: string, fallback: string): string;
export function stringFlag(args: ParsedArgs, name: string): string | undefined;
export function stringFlag(args: ParsedArgs, name: string, fallback?: string) {
  const value = args.flags.get(name);
  return typeof value === "string" ? value : fallback;
}

/** An integer flag in [min, max], or `fallback`. */
export function integerFlag(
  args: ParsedArgs,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = args.flags.get(name);
  if (value === undefined) return fallback;
  const parsed = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new UsageError(`--${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return parsed;
}

/** A byte size flag: an integer with an optional k/M/G (binary) suffix, e.g. `256M`. */
export function sizeFlag(args: ParsedArgs, name: string, fallback: number): number {
  const value = args.flags.get(name);
  if (value === undefined) return fallback;
  const match = typeof value === "string" ? /^(\d+)([kKmMgG]?)(i?[bB])?$/.exec(value) : null;
  if (match === null) {
    throw new UsageError(`--${name} must be a size like 4096, 64k, 256M or 1G, got ${value}`);
  }
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase()]!;
  const bytes = Number(match[1]) * unit;
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`--${name} is too large: ${value}`);
  return bytes;
}
