/**
 * Runs the TUI like `evx ui --cache PATH [--every D]` would, for the end-to-end tests while the CLI
 * entry is not wired (or not built). Exit codes and the one-line error match the CLI's.
 */
import { errorLine, exitCodeFor } from "../../src/commands/errors.js";
import { runUi } from "../../src/commands/ui.js";

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
try {
  await runUi({ cache: arg("--cache"), every: arg("--every") });
} catch (e) {
  process.stderr.write(`${errorLine(e)}\n`);
  process.exitCode = exitCodeFor(e);
}
