/**
 * Runs the TUI like `evx ui --cache PATH` would, for the end-to-end test while the CLI entry is
 * not wired (or not built). Exit codes and the one-line error match the CLI's.
 */
import { errorLine, exitCodeFor } from "../../src/commands/errors.js";
import { runUi } from "../../src/commands/ui.js";

const i = process.argv.indexOf("--cache");
try {
  await runUi({ cache: i > 0 ? process.argv[i + 1] : undefined });
} catch (e) {
  process.stderr.write(`${errorLine(e)}\n`);
  process.exitCode = exitCodeFor(e);
}
