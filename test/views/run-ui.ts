/**
 * Runs the TUI like `evx ui --cache PATH [--every D]` or `evx ui --engine clickhouse --ch-url URL
 * [--ch-table T]` would, for the end-to-end tests while the CLI entry is not wired (or not built).
 * Exit codes and the one-line error match the CLI's.
 */
import { errorLine, exitCodeFor } from "../../src/commands/errors.js";
import { runUi } from "../../src/commands/ui.js";

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
try {
  const engine =
    arg("--engine") === "clickhouse"
      ? { engine: "clickhouse" as const, chUrl: arg("--ch-url"), chTable: arg("--ch-table") }
      : undefined;
  await runUi({ cache: arg("--cache"), every: arg("--every"), ...(engine ? { engine } : {}) });
} catch (e) {
  process.stderr.write(`${errorLine(e)}\n`);
  process.exitCode = exitCodeFor(e);
}
