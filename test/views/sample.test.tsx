/**
 * Sampling in the TUI (docs/semantics.md, "Sampling"): `%` cycles off → 10% → 1% → off, the status
 * bar names the sample, the screens mark their estimates `≈`, and `y` copies `--sample`. On the
 * hand-worked lake of test/queries/sample.test.ts: at 10% only dave is kept (counts × 10).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Cache } from "../../src/cache/db.js";
import { sync } from "../../src/cache/sync.js";
import { folderSource } from "../../src/source/folder.js";
import { writeLakeFiles } from "../../src/source/synthetic.js";
import type { Clipboard } from "../../src/views/state/clipboard.js";
import { sessionFor } from "../../src/views/state/session.js";
import { readViews } from "../../src/views/state/views.js";
import { KEYS, renderApp } from "./fixture.js";

// h mod 10000: alice 3170, bob 7420, carol 1792, dave 999, erin 7545, frank 4480; at 10% only dave.
const line = (user: string, type: string, t: string) =>
  JSON.stringify({ event_type: type, event_time: t, user_id: user });
const FILES = {
  "events/date=2023-06-01/a.jsonl": [
    line("alice", "signup", "2023-06-01T10:00:00Z"),
    line("alice", "purchase", "2023-06-01T10:30:00Z"),
    line("bob", "signup", "2023-06-01T11:00:00Z"),
    line("bob", "purchase", "2023-06-01T11:10:00Z"),
    line("carol", "signup", "2023-06-01T12:00:00Z"),
  ].join("\n"),
  "events/date=2023-06-02/a.jsonl": [
    line("dave", "signup", "2023-06-02T09:00:00Z"),
    line("dave", "purchase", "2023-06-02T09:20:00Z"),
    line("erin", "signup", "2023-06-02T10:00:00Z"),
  ].join("\n"),
};

/** Users of each step row (`1. name ███ 12 100.0% …`, `≈12` when sampled) in the frame. */
const stepUsers = (frame: string) =>
  [...frame.matchAll(/^[ ›] \d\. \S+.*?\s(≈?[\d,]+)\s+[\d.]+%/gm)].map((m) => m[1]);

/** The text of OSC 52 clipboard writes. */
const decode = (writes: string[]) =>
  [...writes.join("").matchAll(/\x1b\]52;c;([A-Za-z0-9+/=]*)/g)].map((m) =>
    Buffer.from(m[1]!, "base64").toString("utf8"),
  );

describe("sampling in the TUI", () => {
  let dir: string;
  let cache: Cache;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "evx-ui-sample-"));
    writeLakeFiles(join(dir, "lake"), FILES);
    cache = await Cache.open(join(dir, "cache.duckdb"), { create: true });
    await sync(cache, folderSource(join(dir, "lake")));
  });
  after(() => {
    cache.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("% cycles the sample; the funnel's counts are marked ≈ and scaled; y copies --sample", async () => {
    const writes: string[] = [];
    const clipboard: Clipboard = { write: (s) => writes.push(s), osc52: true, tmux: false, fallbackPath: "" };
    const app = await renderApp(
      { ...sessionFor(cache), close() {} },
      { columns: 110, rows: 30, props: { clipboard, commandSource: ["--cache", "c.duckdb"] } },
    );
    try {
      await app.waitFor("signup");
      await app.press("3");
      await app.waitFor("No steps yet");
      await app.press("a", "signup", KEYS.enter, KEYS.enter);
      await app.waitFor("Add a second step");
      await app.press("a", "purchase", KEYS.enter, KEYS.enter);
      // Exact: 5 sign up, 3 buy (alice, bob, dave).
      let f = await app.waitFor((x) => stepUsers(x).join() === "5,3");
      assert.equal(f.includes("≈"), false);
      await app.press("%");
      // 10%: dave alone, × 10.
      f = await app.waitFor((x) => stepUsers(x).join() === "≈10,≈10");
      assert.match(f, /sample 10% of users: counts are estimates \(≈\), scaled ×10/);
      f = await app.waitFor((x) => x.includes("≈ 10% sample"));
      const n = writes.length;
      await app.press("y");
      await app.waitFor(() => writes.length > n);
      const [copied] = decode(writes.slice(n));
      assert.match(copied ?? "", /^evx funnel signup purchase .* --sample 10% .*--json$/);
      await app.press("%");
      // 1%: none of these users.
      await app.waitFor((x) => stepUsers(x).join() === "≈0,≈0" || /sample 1% of users/.test(x));
      await app.press("%");
      f = await app.waitFor((x) => stepUsers(x).join() === "5,3" && !x.includes("≈"));
      assert.match(f, /sample off/);
    } finally {
      app.unmount();
    }
  });

  it("a saved view keeps its sample; opening one without a sample turns it off", async () => {
    const path = join(dir, "views.json");
    const app = await renderApp(
      { ...sessionFor(cache), close() {} },
      { columns: 110, rows: 30, props: { viewsPath: path } },
    );
    try {
      await app.waitFor("signup");
      await app.press("w");
      await app.waitFor("Save this view as");
      await app.press("exact", KEYS.enter);
      await app.waitFor("saved view exact");
      await app.press("%");
      await app.waitFor("≈ 10% sample");
      await app.press("w");
      await app.waitFor("Save this view as");
      await app.press("sampled", KEYS.enter);
      await app.waitFor("saved view sampled");
      const views = readViews(path).views;
      assert.equal(views.sampled?.sample, 0.1);
      assert.equal(views.exact?.sample, undefined);
      await app.press("'");
      await app.waitFor("Saved views");
      await app.press("exact", KEYS.enter);
      await app.waitFor((x) => !x.includes("Saved views"));
      // The sample is off again: % goes to 10% (from 10% it would go to 1%).
      await app.press("%");
      await app.waitFor("sample 10% of users");
      await app.press("%", "%");
      await app.waitFor("sample off");
      await app.press("'");
      await app.waitFor("Saved views");
      await app.press("sampled", KEYS.enter);
      await app.waitFor((x) => !x.includes("Saved views"));
      // The view's 10%: % goes to 1% (from off it would go to 10%).
      await app.press("%");
      await app.waitFor("sample 1% of users");
    } finally {
      app.unmount();
    }
  });

  it("evx ui --sample opens sampled; the help lists %", async () => {
    const app = await renderApp(
      { ...sessionFor(cache), close() {} },
      { columns: 110, rows: 40, props: { sample: 0.1 } },
    );
    try {
      // The Events tab is not sampled (a catalog); the status bar says the analyses are.
      await app.waitFor((x) => x.includes("≈ 10% sample") && x.includes("signup"));
      await app.press("?");
      await app.waitFor((x) => /%\s+Sample users: off\/10%\/1%/.test(x));
    } finally {
      app.unmount();
    }
  });
});
