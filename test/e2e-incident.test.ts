// The incident review of issue #23, with real processes at once on one cache (the default, shared
// mode): `evx sync s3://… --watch` against the loopback S3 server, two TUIs in tmux (one in live
// mode, following the watch), and a loop of headless `evx events --json`, while objects are added,
// replaced and deleted in the bucket. Every headless answer must equal the brute force over the
// bucket's content at one state the bucket went through, never an older state than an answer that
// ended before it began, never a state not yet written (no half batch, no lost commit). Each run
// SIGKILLs one participant at a random moment: the watch (the TUI in live mode takes over), the host,
// the other TUI, a headless query in flight. EVX_INCIDENT_RUNS sets the runs (default 4, one per victim).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { generateLake } from "../src/source/synthetic.js";
import { CLI, evxAsync, evxRun } from "./helpers/cli.js";
import { hostPid, probeLines } from "./helpers/hosts.js";
import { type S3TestServer, startS3Server } from "./helpers/s3server.js";
import { tempDir } from "./helpers/tmp.js";
import { tmuxDriver } from "./helpers/tmux.js";

const hasTmux = spawnSync("tmux", ["-V"]).status === 0;
const dir = tempDir("evx-incident-");
const RUNS = Number(process.env.EVX_INCIDENT_RUNS ?? 4);
const VICTIMS = ["watch", "host", "tui", "reader"] as const;
const env = {
  EVX_HOST_IDLE_MS: "2000",
  EVX_CACHE: "",
  EVX_WATCH_MIN_EVERY_MS: "0",
  XDG_CACHE_HOME: join(dir, "xdg"),
  XDG_RUNTIME_DIR: join(dir, "run"),
  AWS_ACCESS_KEY_ID: "S3RVER",
  AWS_SECRET_ACCESS_KEY: "S3RVER",
  AWS_REGION: "us-east-1",
};
// This process opens caches only to find their host's PID (helpers/hosts.ts), in the same folder.
Object.assign(process.env, { XDG_RUNTIME_DIR: env.XDG_RUNTIME_DIR });
const SOCKET = `evx-incident-${process.pid}`;
const tty = tmuxDriver(SOCKET, { waitMs: 60_000, pollMs: 100 });
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

let server: S3TestServer;
const lake = join(dir, "lake");
/** The lake's objects, relative key → body. */
const initial = new Map<string, string>();

before(async () => {
  server = await startS3Server();
  await server.createBucket("lake");
  await generateLake({ dir: lake, events: 1500, days: 2, gzipShare: 0, seed: 41 });
  for (const e of readdirSync(lake, { recursive: true, withFileTypes: true }))
    if (e.isFile()) {
      const p = join(e.parentPath, e.name);
      initial.set(relative(lake, p).split("\\").join("/"), readFileSync(p, "utf8"));
    }
});

after(async () => {
  tty.kill();
  await server?.stop();
  await sleep(2500); // the hosts leave after EVX_HOST_IDLE_MS
});

type Catalog = Record<string, number>;

/** The brute force: events per type over the bucket's objects. */
function brute(objects: Map<string, string>): Catalog {
  const c: Catalog = {};
  for (const body of objects.values())
    for (const line of body.split("\n")) {
      if (!line.trim()) continue;
      const t = (JSON.parse(line) as { event_type: string }).event_type;
      c[t] = (c[t] ?? 0) + 1;
    }
  return c;
}

function lastIndex<T>(xs: T[], ok: (x: T) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (ok(xs[i])) return i;
  return -1;
}

const same = (a: Catalog, b: Catalog) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

test("the incident: a watch on S3, two TUIs and headless queries on one cache, with a SIGKILL a run", {
  skip: hasTmux ? false : "tmux is not installed",
  timeout: 30 * 60_000,
}, async (t) => {
  for (let run = 0; run < RUNS; run++) {
    const victim = VICTIMS[run % VICTIMS.length];
    const prefix = `raw-${run}/`;
    await Promise.all([...initial].map(([k, body]) => server.putObject("lake", prefix + k, body)));
    const objects = new Map([...initial].map(([k, v]) => [prefix + k, v]));
    /** Every state the bucket went through, as its brute force, in order. */
    const states: Catalog[] = [brute(objects)];
    const cache = join(dir, `incident-${run}.duckdb`);
    const src = [`s3://lake/${prefix.slice(0, -1)}`, "--endpoint", server.endpoint, "--cache", cache];
    const first = await evxRun(["sync", ...src, "--json"], env);
    assert.equal(first.code, 0, first.stderr);

    // The watch.
    const watch = evxAsync(["sync", ...src, "--watch", "--every", "1s", "--json"], env);
    let watchErr = "";
    let cycles = 0;
    watch.stdout.setEncoding("utf8").on("data", (d: string) => {
      cycles += d.split("\n").filter(Boolean).length;
    });
    watch.stderr.setEncoding("utf8").on("data", (d: string) => {
      watchErr += d;
    });
    const watchDone = new Promise<number | null>((r) => watch.on("close", (code) => r(code)));

    // The watch runs first (it holds the writer from its first cycle on).
    for (let i = 0; i < 1200 && cycles === 0; i++) await sleep(50);
    assert.ok(cycles > 0, `the watch ran a cycle: ${watchErr}`);

    // Two TUIs in tmux: A in live mode (it follows the watch), B browsing.
    const envText = Object.entries(env)
      .map(([k, v]) => `${k}=${q(v)}`)
      .join(" ");
    const tuis = ["A", "B"].map((n) => `r${run}${n}`);
    for (const name of tuis) {
      await tty.shell(name, envText, 100, 30);
      tty.type(name, `exec ${q(process.execPath)} ${q(CLI)} ui --cache ${q(cache)} --every 1s`);
      tty.keys(name, "Enter");
    }
    for (const name of tuis) await tty.waitScreen(name, "event types");
    tty.keys(tuis[0], "L");
    await tty.waitScreen(tuis[0], /live · following evx sync \(PID \d+\)/);

    // The loop of headless queries: each answer with when it began and ended.
    const answers: { t0: number; t1: number; catalog: Catalog; state: number }[] = [];
    let reading = true;
    let inflight: ReturnType<typeof evxAsync> | null = null;
    let readerKilled = 0;
    const loop = (async () => {
      while (reading) {
        const t0 = performance.now();
        const child = evxAsync(["events", "--cache", cache, "--json"], env);
        inflight = child;
        let out = "";
        let err = "";
        child.stdout.setEncoding("utf8").on("data", (d: string) => {
          out += d;
        });
        child.stderr.setEncoding("utf8").on("data", (d: string) => {
          err += d;
        });
        const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((r) =>
          child.on("close", (code, signal) => r({ code, signal })),
        );
        inflight = null;
        if (signal === "SIGKILL") {
          readerKilled++;
          continue;
        }
        assert.equal(code, 0, `run ${run}: a headless answer: ${err}`);
        const j = JSON.parse(out) as { events: { event_type: string; events: number }[] };
        const catalog = Object.fromEntries(j.events.map((e) => [e.event_type, e.events]));
        answers.push({
          t0,
          t1: performance.now(),
          catalog,
          state: lastIndex(states, (s) => same(s, catalog)),
        });
      }
    })();

    // The mutations, each once the previous one shows; the kill at a random one.
    let rng = 97 + run;
    const random = () => {
      rng = (rng * 1103515245 + 12345) % 2 ** 31;
      return rng / 2 ** 31;
    };
    const mutations = 4;
    const killAt = 1 + Math.floor(random() * (mutations - 2));
    let killed = "";
    const day = "2023-06-02";
    const added: string[] = [];
    const putAt: number[] = [performance.now()];
    for (let m = 0; m < mutations; m++) {
      if (m === killAt) {
        await sleep(random() * 800);
        if (victim === "watch") watch.kill("SIGKILL");
        else if (victim === "host") {
          const pid = await hostPid(cache);
          assert.ok(pid, "a host holds the cache");
          process.kill(pid, "SIGKILL");
        } else if (victim === "tui") {
          const pid = Number(tty.tmux("display-message", "-p", "-t", tuis[1], "#{pane_pid}").trim());
          process.kill(pid, "SIGKILL");
        } else {
          for (let i = 0; i < 100 && !inflight; i++) await sleep(10);
          (inflight as ReturnType<typeof evxAsync> | null)?.kill("SIGKILL");
        }
        killed = victim;
      }
      // Add, replace or delete one object of the run's own.
      // Every state differs from every earlier one (each object has its own event type).
      const op = (["add", "replace", "add", "delete"] as const)[m % 4];
      if (op === "add") {
        const key = `${prefix}date=${day}/incident-${m}.jsonl`;
        const body = probeLines(`incident_${m}`, day, 3 + m);
        await server.putObject("lake", key, body);
        objects.set(key, body);
        added.push(key);
      } else if (op === "replace") {
        const key = added[added.length - 1];
        const body = probeLines(`replaced_${m}`, day, 5 + m);
        await server.putObject("lake", key, body);
        objects.set(key, body);
      } else {
        const key = added.shift()!;
        await server.deleteObject("lake", key);
        objects.delete(key);
      }
      states.push(brute(objects));
      putAt.push(performance.now());
      const want = states.length - 1;
      const end = performance.now() + 60_000;
      while (!answers.some((a) => a.state === want && a.t0 > putAt[want])) {
        assert.ok(
          performance.now() < end,
          `run ${run} (${victim} killed): mutation ${m} (${op}) never showed`,
        );
        await sleep(50);
      }
    }
    reading = false;
    await loop;

    // Every answer is one state of the bucket: not one written after it ended, not one older than an
    // answer that ended before it began.
    for (const a of answers) {
      assert.ok(
        a.state >= 0,
        `run ${run}: an answer matching no state of the bucket: ${JSON.stringify(a.catalog)}`,
      );
      const written = lastIndex(putAt, (p) => p < a.t1);
      assert.ok(a.state <= written, `run ${run}: an answer from the future (state ${a.state} > ${written})`);
      const floor = Math.max(-1, ...answers.filter((b) => b.t1 < a.t0).map((b) => b.state));
      assert.ok(a.state >= floor, `run ${run}: an answer went back (state ${a.state} < ${floor})`);
    }
    // The final state is in the cache: nothing committed was lost.
    const last = await evxRun(["events", "--cache", cache, "--json"], env);
    assert.equal(last.code, 0, last.stderr);
    const final = Object.fromEntries(
      (JSON.parse(last.stdout) as { events: { event_type: string; events: number }[] }).events.map((e) => [
        e.event_type,
        e.events,
      ]),
    );
    assert.deepEqual(final, states.at(-1));
    // The survivors are fine: TUI A (live) shows live mode, B unless killed its tabs.
    assert.match(tty.screen(tuis[0]), /live · /);
    if (victim !== "tui") assert.match(tty.screen(tuis[1]), /Events/);
    t.diagnostic(
      `run ${run}: ${killed} killed at mutation ${killAt}; ${answers.length} answers${readerKilled ? ` (${readerKilled} killed)` : ""}; watch ${watch.signalCode ?? `exit ${watch.exitCode ?? "running"}`}`,
    );

    for (const name of tuis) tty.kill(name);
    if (watch.exitCode === null && watch.signalCode === null) watch.kill("SIGTERM");
    const code = await watchDone;
    if (victim !== "watch") assert.ok(code === 0 || code === null, `the watch: ${code}: ${watchErr}`);
  }
});
