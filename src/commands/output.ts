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

export function termWidth(): number {
  return process.stdout.columns && process.stdout.columns > 20 ? process.stdout.columns : 100;
}
