// Runs every test file with node's test runner through tsx (Node 20's --test cannot glob .ts itself).
// Timing-sensitive files (a real terminal, SIGKILL points) run after the rest, one at a time, so a
// loaded 2-core machine does not starve them.
//
// EVX_TEST_LOAD=N runs them under load: N busy-looping processes per core beside the tests, as on a
// shared CI machine, so that races which only show when the tests get little CPU show here too
// (`npm run test:load`). The hogs end with this script, or when it dies, or after EVX_TEST_LOAD_MAX_S
// seconds (default 3600), whichever comes first.
import { spawn, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";

const SERIAL = /(e2e[^/]*|kill[^/]*)\.test\.tsx?$/;
const roots = process.argv.slice(2).length ? process.argv.slice(2) : ["test"];
const files = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (/\.test\.tsx?$/.test(e.name)) files.push(p);
  }
};
for (const r of roots) {
  if (/\.test\.tsx?$/.test(r)) files.push(r);
  else walk(r);
}
files.sort();

const run = (list, concurrency, env = process.env) =>
  list.length === 0
    ? 0
    : (spawnSync(
        process.execPath,
        ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, "--test-reporter=spec", ...list],
        { stdio: "inherit", env },
      ).status ?? 1);

const hogs = startHogs(Number(process.env.EVX_TEST_LOAD || 0));
// Every spawned evx shares its cache through a cache host (README, "One cache, many processes"),
// which stays EVX_HOST_IDLE_MS after its last client: short in the tests, so a file's hosts do not
// pile up while later files run.
process.env.EVX_HOST_IDLE_MS ??= "3000";

const parallel = run(
  files.filter((f) => !SERIAL.test(f)),
  2,
);
const serial = run(
  files.filter((f) => SERIAL.test(f)),
  1,
);
// The analysis suites again on ClickHouse (chdb, in process): the same golden cases, cross-checks,
// property test, drill-downs and time zones must hold on both engines. Two files at a time: a file's
// small queries keep chdb on about one core (measured: 300 s one at a time, 163 s two at a time).
const ENGINE_SUITES = /(golden|crosscheck|drilldown|timezones|property)\.test\.ts$/;
const clickhouse = process.env.EVX_SKIP_CLICKHOUSE
  ? 0
  : run(
      files.filter((f) => ENGINE_SUITES.test(f)),
      2,
      { ...process.env, EVX_TEST_ENGINE: "clickhouse" },
    );
for (const h of hogs) h.kill("SIGKILL");
process.exit(parallel || serial || clickhouse);

/** `perCore` CPU hogs per core; each also ends on its own when this process is gone or time is up. */
function startHogs(perCore) {
  if (!(perCore > 0)) return [];
  const n = Math.round(perCore * availableParallelism());
  const maxS = Number(process.env.EVX_TEST_LOAD_MAX_S || 3600);
  const body = `const end = Date.now() + ${maxS * 1000}, parent = process.ppid;
for (;;) { for (let i = 0; i < 1e7; i++); if (Date.now() > end || process.ppid !== parent) process.exit(0); }`;
  const list = Array.from({ length: n }, () => spawn(process.execPath, ["-e", body], { stdio: "ignore" }));
  const stop = () => {
    for (const h of list) h.kill("SIGKILL");
  };
  process.on("exit", stop);
  for (const sig of ["SIGINT", "SIGTERM"])
    process.on(sig, () => {
      stop();
      process.exit(130);
    });
  process.stderr.write(
    `test: under load: ${n} CPU hogs (${perCore} per core) beside the tests, for at most ${maxS} s\n`,
  );
  return list;
}
