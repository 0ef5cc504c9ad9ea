/**
 * The entry point of the bundle (dist/cli.js; bin/evx imports it). Kept tiny, because what it
 * imports statically is loaded by every run:
 *
 * - `evx --version` answers here, before yargs is loaded.
 * - Shell completion (`evx __complete …`, called by the scripts of `evx completion`) answers here
 *   too, from src/commands/completion.ts, without yargs, React or DuckDB.
 * - Everything else goes to the yargs CLI (src/cli.tsx). Commands that read the cache start loading
 *   the DuckDB binding (its JS chunk and the native library) before the CLI's chunks, so that their
 *   file reads overlap.
 */
import { holdStopSignals, releaseStopSignals } from "./stopsignals.js";
import { versionLine } from "./version.js";

const argv = process.argv.slice(2);

/** The value of `--flag V` or `--flag=V` (the last one given). */
function flagValue(flag: string): string | undefined {
  let v: string | undefined;
  argv.forEach((a, i) => {
    if (a === flag && i + 1 < argv.length) v = argv[i + 1];
    else if (a.startsWith(`${flag}=`)) v = a.slice(flag.length + 1);
  });
  return v;
}

/** Commands that open the DuckDB cache (not the TUI: it draws its first frame before it loads DuckDB). */
const CACHE_COMMANDS = new Set([
  "events",
  "props",
  "trend",
  "funnel",
  "retention",
  "user",
  "status",
  "rejects",
  "sync",
]);

const completing = argv[0] === "__complete" || argv[0] === "__complete-index";
// The first word that names a command (a flag's value may come first: `--cache x trend`).
const command = completing
  ? undefined
  : argv.find((a) => CACHE_COMMANDS.has(a) || a === "ui" || a === "demo");

// `evx sync` stops cleanly on Ctrl+C and SIGTERM even while it starts (src/stopsignals.ts): they are
// held from here on, before anything else loads, and the sync command takes them over. For any
// other command bin/evx may have held them (it only looks for the word): they act as if never held.
if (command === "sync" && !argv.includes("--help")) holdStopSignals();
else releaseStopSignals();

if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
  process.stdout.write(`${versionLine()}\n`);
} else if (completing) {
  const { completionMain } = await import("./commands/completion.js");
  await completionMain(argv);
} else if (argv[0] === "__host" && argv[1]) {
  // The cache host of shared mode (src/cache/host.ts), started detached by another evx process.
  const { hostMain } = await import("./cache/host.js");
  process.exit(await hostMain(argv[1], { create: argv.includes("--create") }));
} else if (argv[0] === "__completion-spec") {
  // For scripts/build.mjs, which embeds it.
  const { liveSpec } = await import("./commands/completion.js");
  process.stdout.write(JSON.stringify(await liveSpec()));
} else {
  // Every evx command shares its cache with the other evx processes through the cache's host
  // (src/cache/host.ts) unless the user opts out with EVX_SHARED=0 (README, "One cache, many processes").
  (await import("./cache/hostpaths.js")).shareByDefault();
  const onClickHouse = argv.some(
    (a, i) => a === "--engine=clickhouse" || (a === "--engine" && argv[i + 1] === "clickhouse"),
  );
  if (command && CACHE_COMMANDS.has(command) && !onClickHouse && !argv.includes("--help")) {
    const db = import("./cache/db.js");
    // A reading command's cache starts opening now, in parallel with loading the CLI (Cache.open
    // takes the promise up; a path the command resolves differently simply opens again).
    if (command !== "sync") {
      const path = await import("./commands/cachepath.js")
        .then((m) => m.cachePathFor(flagValue("--cache")))
        .catch(() => null);
      if (path) db.then((m) => m.preopen(path)).catch(() => {});
    } else db.catch(() => {});
  }
  const { main } = await import("./cli.js");
  await main(argv);
  // Held for a word that yargs did not take as the sync command (`--cache sync status`): given back.
  releaseStopSignals();
}
