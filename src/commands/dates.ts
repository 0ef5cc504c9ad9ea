import { isIsoDate } from "../source/layout.js";
import { UsageError } from "./errors.js";

/** `--from`/`--to` partition dates of `sync` and `clickhouse load`: real dates, in order. */
export function checkDates(from?: string, to?: string): void {
  for (const [flag, v] of [
    ["--from", from],
    ["--to", to],
  ] as const)
    if (v !== undefined && !isIsoDate(v))
      throw new UsageError(`${flag} must be a date like 2023-06-01, got '${v}'`);
  if (from && to && from > to) throw new UsageError(`--from ${from} is after --to ${to}`);
}
