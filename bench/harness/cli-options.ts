/**
 * Command-line options of `npm run bench`.
 *
 * @module
 */

/** Parsed options. */
export interface BenchOptions {
  /** Small sizes and one round: a smoke run of a few seconds. */
  readonly quick: boolean;
  /** Case or row name fragments; a case runs if any fragment occurs in its name or a row's. */
  readonly only: readonly string[];
  /** Measured rounds per case (default 5, or 1 with `--quick`). */
  readonly rounds: number;
  /** Where to write the JSON report. */
  readonly jsonFile: string | undefined;
  /** Directory for `--cpu-prof` profiles of the server process. */
  readonly serverCpuProfDir: string | undefined;
  /** List the cases and exit. */
  readonly list: boolean;
  readonly help: boolean;
}

export const usage = `Usage: npm run bench -- [options]

  --quick              small sizes, one round (smoke test, a few seconds)
  --only NAME          run only cases whose name, or one of whose row names, contains NAME
                       (repeatable, or comma-separated)
  --rounds N           measured rounds per case (default 5; 1 with --quick)
  --json FILE          also write every figure and round as JSON to FILE
  --server-cpu-prof DIR  run the server process with --cpu-prof, profiles into DIR
                       (profile the client with: node --cpu-prof --import tsx bench/run.ts)
  --list               list cases and rows, then exit
  --help               this text`;

/** Parses `argv` (without node and script); throws with a readable message on bad input. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  let quick = false;
  let list = false;
  let help = false;
  let rounds: number | undefined;
  let jsonFile: string | undefined;
  let serverCpuProfDir: string | undefined;
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new Error(`bench: ${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--quick":
        quick = true;
        break;
      case "--list":
        list = true;
        break;
      case "--help":
      case "-h":
        help = true;
        break;
      case "--only":
        only.push(...value().split(",").map((s) => s.trim()).filter((s) => s.length > 0));
        break;
      case "--rounds": {
        const text = value();
        rounds = Number(text);
        if (!Number.isInteger(rounds) || rounds < 1 || rounds > 100) {
          throw new Error(`bench: --rounds must be an integer from 1 to 100, got "${text}"`);
        }
        break;
      }
      case "--json":
        jsonFile = value();
        break;
      case "--server-cpu-prof":
        serverCpuProfDir = value();
        break;
      default:
        throw new Error(`bench: unknown argument "${arg}"\n\n${usage}`);
    }
  }
  return { quick, only, rounds: rounds ?? (quick ? 1 : 5), jsonFile, serverCpuProfDir, list, help };
}
