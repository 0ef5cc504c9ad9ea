/**
 * Issue #28, copy as command: `y` copies (OSC 52) the `evx … --json` line that answers the screen
 * headless, `Y` the SQL, and in a drill-down list `y` the user id. The round trip runs each decoded
 * line through bin/evx (build first) and compares its numbers with the ones on the screen; the
 * headless `--print-command` is a fixed point of itself.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { commandArgs, commandLine, durationFlag, shellWord } from "../../src/queries/command.js";
import {
  type Clipboard,
  copyText,
  decodeOsc52,
  osc52,
  tmuxPassthrough,
} from "../../src/views/state/clipboard.js";
import { KEYS, renderApp, type SmallCache, smallCache, testSession } from "./fixture.js";

const BIN = fileURLToPath(new URL("../../bin/evx", import.meta.url));

/** Runs an `evx …` line as a POSIX shell reads it, with `evx` being this checkout's bin/evx. */
function runLine(line: string): { stdout: string; stderr: string; status: number | null } {
  assert.match(line, /^evx /);
  const r = spawnSync("sh", ["-c", `evx() { "$EVX_BIN" "$@"; }; ${line}`], {
    encoding: "utf8",
    env: { ...process.env, EVX_BIN: BIN },
  });
  assert.equal(r.status, 0, `${line}: ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

const num = (s: string) => Number(s.replace(/,/g, ""));

describe("copy as command", () => {
  let c: SmallCache;
  /** The same synthetic lake in a second cache, closed: bin/evx reads it while the App holds `c`. */
  let twin: SmallCache;
  before(async () => {
    c = await smallCache();
    twin = await smallCache();
    twin.cache.close();
  });
  after(() => {
    c.dispose();
    twin.dispose();
  });

  it("OSC 52: plain, and wrapped for tmux passthrough; decodes back; a file when unsupported", () => {
    const text = "evx trend 'a b' --json ✓";
    const seq = osc52(text);
    assert.match(seq, /^\x1b\]52;c;[A-Za-z0-9+/=]+\x07$/);
    assert.deepEqual(decodeOsc52(seq), [text]);
    const wrapped = tmuxPassthrough(seq);
    assert.ok(wrapped.startsWith("\x1bPtmux;\x1b\x1b]52;c;") && wrapped.endsWith("\x07\x1b\\"));
    const writes: string[] = [];
    const cb: Clipboard = { write: (s) => writes.push(s), osc52: true, tmux: true, fallbackPath: "" };
    assert.deepEqual(copyText(text, cb), { how: "osc52" });
    assert.deepEqual(decodeOsc52(writes.join("").replace(/\x1b\x1b/g, "\x1b")), [text, text]);
    const path = join(c.dir, "state", "evx", "copied.txt");
    const out = copyText(text, { ...cb, osc52: false, fallbackPath: path });
    assert.deepEqual(out, { how: "file", path });
    assert.equal(readFileSync(path, "utf8"), `${text}\n`);
  });

  it("spec → command words: defaults written out, relative ranges kept, quoting for sh", () => {
    const range = { from: "2023-06-01", to: "2023-06-14", tz: "Europe/Berlin" };
    assert.deepEqual(
      commandArgs({
        kind: "funnel",
        steps: [
          { event: "a", filters: [] },
          { event: "b", filters: [{ key: "plan", op: "=", value: "pro plan" }] },
        ],
        withinSeconds: 7200,
        order: "strict",
        exclude: [{ event: { event: "err", filters: [] }, from: 1, to: 2 }],
        range,
        filters: [{ key: "country", op: "in", value: ["DE", "FR"] }],
        limit: 10,
        trendInterval: "day",
      }),
      [
        "funnel",
        "a",
        "b[plan=pro plan]",
        "--within",
        "2h",
        "--order",
        "strict",
        "--exclude",
        "err@1-2",
        "--interval",
        "day",
        "--where",
        "country in DE,FR",
        "--from",
        "2023-06-01",
        "--to",
        "2023-06-14",
        "--tz",
        "Europe/Berlin",
      ],
    );
    assert.equal(
      commandLine(
        {
          kind: "trend",
          events: [{ event: "it's", filters: [] }],
          measure: { kind: "users" },
          interval: "hour",
          range: { from: "2023-06-01T10:00:00.000Z", to: "2023-06-01T16:00:00.000Z", tz: "UTC" },
          filters: [],
          limit: 10,
        },
        { last: 6 * 3600, output: ["--json"] },
      ),
      `evx trend 'it'\\''s' --measure users --interval hour --last 6h --json`,
    );
    assert.equal(durationFlag(90), "90s");
    assert.equal(durationFlag(5400), "90m");
    assert.equal(durationFlag(1209600), "2w");
    assert.equal(shellWord("*"), "'*'");
  });

  it("y copies a command that gives the screen's numbers; Y the SQL; y in a user list the user id", async () => {
    const writes: string[] = [];
    const clipboard: Clipboard = { write: (s) => writes.push(s), osc52: true, tmux: false, fallbackPath: "" };
    const app = await renderApp(testSession(c), {
      columns: 100,
      rows: 30,
      props: { clipboard, commandSource: ["--cache", twin.path] },
    });
    const copied = async () => {
      const n = writes.length;
      await app.press("y");
      await app.waitFor(() => writes.length > n);
      const texts = decodeOsc52(writes.slice(n).join(""));
      assert.equal(texts.length, 1);
      return texts[0]!;
    };
    let events: string;
    let trendLine: string;
    let pathsLine: string;
    let eventsFrame: string;
    let trendFrame: string;
    let pathsFrame: string;
    try {
      // Events: the catalog.
      eventsFrame = await app.waitFor("purchase");
      events = await copied();
      await app.waitFor("copied the command: evx events --from 2023-06-01");
      // Trends as a table: the total and every day.
      await app.press("2");
      await app.waitFor("── button_clicked");
      await app.press("t");
      trendFrame = await app.waitFor(/Total\s+1,946/);
      trendLine = await copied();
      // Paths: the anchored users.
      await app.press("6");
      pathsFrame = await app.waitFor(/ users, .* of all · /);
      pathsLine = await copied();
      // Y: the SQL, parameters inlined.
      const n = writes.length;
      await app.press("Y");
      await app.waitFor("copied the SQL");
      assert.match(decodeOsc52(writes.slice(n).join(""))[0]!, /^WITH|^SELECT/im);
      // A drill-down list: y is the user id under the cursor.
      await app.press("2");
      await app.waitFor(/Total\s+1,946/);
      await app.press("u");
      const list = await app.waitFor(/› [0-9a-f-]{36}/);
      const id = /› ([0-9a-f-]{36})/.exec(list)![1]!;
      assert.equal(await copied(), id);
      await app.waitFor(`copied the user id: ${id}`);
      // …and in the timeline too.
      await app.press(KEYS.enter);
      await app.waitFor(`Timeline of ${id}`);
      assert.equal(await copied(), id);
    } finally {
      app.unmount();
    }
    assert.equal(events, `evx events --from 2023-06-01 --to 2023-06-14 --cache ${twin.path} --json`);
    const cat = JSON.parse(runLine(events).stdout) as {
      events: { event_type: string; events: number; users: number }[];
    };
    assert.equal(cat.events.length, 9);
    for (const e of cat.events) {
      const row = new RegExp(`^${e.event_type}\\s+([\\d,]+)\\s+([\\d,]+)`, "m").exec(eventsFrame);
      assert.ok(row, `${e.event_type} on screen`);
      assert.deepEqual([num(row[1]!), num(row[2]!)], [e.events, e.users]);
    }

    assert.match(
      trendLine,
      /^evx trend button_clicked --measure events --interval day --from 2023-06-01 --to 2023-06-14 /,
    );
    const trend = JSON.parse(runLine(trendLine).stdout) as {
      series: { total: number; points: { t: string; value: number }[] }[];
    };
    assert.equal(trend.series[0]!.total, num(/Total\s+([\d,]+)/.exec(trendFrame)![1]!));
    for (const p of trend.series[0]!.points) {
      const day = p.t.slice(5, 10);
      const row = new RegExp(`^${day}\\s+([\\d,]+)`, "m").exec(trendFrame);
      if (row) assert.equal(num(row[1]!), p.value, day);
    }

    const paths = JSON.parse(runLine(pathsLine).stdout) as {
      users: number;
      nodes: { path: string[]; users: number }[];
    };
    assert.match(pathsFrame, new RegExp(`${paths.users.toLocaleString("en-US")} users`));
    assert.match(pathsLine, /^evx paths --after button_clicked --depth 4 --top 5 /);

    // --print-command is a fixed point: the printed line prints itself.
    for (const line of [events, trendLine, pathsLine]) {
      const printed = runLine(`${line} --print-command`);
      assert.equal(printed.status, 0, printed.stderr);
      assert.equal(printed.stdout.trim(), line);
    }
  });
});
