import { jsonText } from "../render/json.js";

export type Format = "json" | "csv" | "human";

export function formatOf(argv: { json?: boolean; csv?: boolean }): Format {
  if (argv.json) return "json";
  if (argv.csv) return "csv";
  return "human";
}

export function printJson(v: unknown): void {
  process.stdout.write(`${jsonText(v)}\n`);
}

/** The narrowest human output: below it tables and charts have no room for their columns. */
export const MIN_WIDTH = 20;
/** The width of human output when neither `COLUMNS` nor a terminal says one. */
export const DEFAULT_WIDTH = 100;

/**
 * The width human (non-JSON) output is laid out in: `COLUMNS` when it is a whole number (as `ls`, `git`
 * and Python's `shutil` read it, so `COLUMNS=80 evx paths … | cat` is 80 wide), else the terminal's
 * width when stdout is one, else 100; never below 20.
 */
export function termWidth(
  env: NodeJS.ProcessEnv = process.env,
  stdout: { columns?: number } = process.stdout,
): number {
  const fromEnv = env.COLUMNS?.trim();
  if (fromEnv && /^\d+$/.test(fromEnv) && Number(fromEnv) > 0) return Math.max(MIN_WIDTH, Number(fromEnv));
  return stdout.columns && stdout.columns > MIN_WIDTH ? stdout.columns : DEFAULT_WIDTH;
}
