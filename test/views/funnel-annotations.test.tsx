/**
 * Issue #28 in the TUI: the Funnel's conversion over time takes annotations as Trends does. `r` picks
 * the key whose first values are marked (turning the over-time chart on), the marks sit under the x
 * axis with a one-line legend, `n` lists them all, and `y` copies a command carrying
 * `--annotations-from` whose headless JSON lists the same annotations (bin/evx: build first).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { FunnelResult } from "../../src/queries/spec.js";
import { addNote } from "../../src/views/state/annotations.js";
import { type Clipboard, decodeOsc52 } from "../../src/views/state/clipboard.js";
import { tempDir } from "../helpers/tmp.js";
import { assertFits, KEYS, renderApp, type SmallCache, smallCache, testSession } from "./fixture.js";

const BIN = fileURLToPath(new URL("../../bin/evx", import.meta.url));

describe("Funnel: annotations on the conversion over time", () => {
  let c: SmallCache;
  /** The same lake in a second, closed cache: bin/evx reads it while the App holds `c`. */
  let twin: SmallCache;
  const saved = process.env.XDG_CONFIG_HOME;
  const config = join(tempDir(), "config");
  before(async () => {
    c = await smallCache();
    twin = await smallCache();
    twin.cache.close();
    process.env.XDG_CONFIG_HOME = config;
    addNote("deploy 1.42", "2023-06-05T12:00:00.000Z");
  });
  after(() => {
    if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
    else process.env.XDG_CONFIG_HOME = saved;
    c.dispose();
    twin.dispose();
  });

  it("r marks a key's first values, n lists them, y's command gives the same annotations headless", async () => {
    const writes: string[] = [];
    const clipboard: Clipboard = { write: (s) => writes.push(s), osc52: true, tmux: false, fallbackPath: "" };
    const app = await renderApp(testSession(c), {
      columns: 80,
      rows: 24,
      props: {
        clipboard,
        commandSource: ["--cache", twin.path],
        view: {
          tab: "funnel",
          models: {
            funnel: {
              steps: [
                { event: "application_opened", filters: [] },
                { event: "button_clicked", filters: [] },
              ],
              withinSeconds: 86400,
              filters: [],
              overTime: false,
              interval: "day",
            },
          },
        },
      },
    });
    try {
      await app.waitFor(/2\. button_clicked .*\d+\.\d%/);
      // r: the key picker; picking turns the over-time chart on.
      await app.press("r");
      await app.waitFor("Mark where each value of a key first appears");
      await app.press("app_version");
      await app.waitFor("app_version");
      await app.press(KEYS.enter);
      let f = await app.waitFor(
        (x) =>
          x.includes("Conversion over time") &&
          x.includes("marks app_version") &&
          x.includes("n lists them all"),
      );
      assertFits(f, 80, 24);
      const lines = f.split("\n");
      // Two legend lines: the earliest mark, then how many more; the marks' row two above it (the
      // series legend between) carries the marks (`*` where several share a point).
      const legendAt = lines.findIndex((l) => /^1 \d\d-\d\d \d\d:\d\d /.test(l));
      assert.ok(legendAt > 0, f);
      assert.match(lines[legendAt + 1]!, /^\+\d+ more · n lists them all/, f);
      assert.match(lines[legendAt - 2]!.replace(/[ │]/g, ""), /^[*\d]{2,}$/, f);
      assert.match(lines[legendAt - 1]!, /── conversion %/, f);

      // n: every annotation, the note among them.
      await app.press("n");
      f = await app.waitFor(/Annotations \(\d+\)/);
      const count = Number(/Annotations \((\d+)\)/.exec(f)![1]);
      const listed = [...f.matchAll(/first seen · (\S+)/g)].map((m) => m[1]!);
      assert.ok(f.includes("note 1 · deploy 1.42"), f);
      assert.ok(listed.length >= 2 && count === listed.length + 1, f);
      assertFits(f, 80, 24);
      await app.press("n");
      await app.waitFor("marks app_version");

      // y: the command, run headless, lists the same annotations (the note from the same config).
      const n = writes.length;
      await app.press("y");
      await app.waitFor(() => writes.length > n);
      const [line] = decodeOsc52(writes.slice(n).join(""));
      assert.match(line!, /^evx funnel .*--interval day .*--annotations-from app_version/);
      const r = spawnSync("sh", ["-c", `evx() { "$EVX_BIN" "$@"; }; ${line}`], {
        encoding: "utf8",
        env: { ...process.env, EVX_BIN: BIN },
      });
      assert.equal(r.status, 0, `${line}: ${r.stderr}`);
      const json = JSON.parse(r.stdout) as FunnelResult;
      const notes = json.annotations ?? [];
      assert.deepEqual(
        notes.filter((a) => a.source !== "note").map((a) => a.text),
        listed,
        "the first values, in order",
      );
      assert.deepEqual(
        notes.filter((a) => a.source === "note").map((a) => a.text),
        ["deploy 1.42"],
      );
    } finally {
      app.unmount();
    }
  });
});
