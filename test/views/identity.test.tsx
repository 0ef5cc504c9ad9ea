/**
 * The TUI's identity switch (docs/semantics.md, "Identity"): a Segment export opens counting persons
 * (the data's default, named in the status bar); `I` switches every screen to user ids and back. The
 * Events tab's users column is checked against the engine in each mode.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Cache } from "../../src/cache/db.js";
import { sync } from "../../src/cache/sync.js";
import { Executor } from "../../src/queries/executor.js";
import { folderSource } from "../../src/source/folder.js";
import { sessionFor } from "../../src/views/state/session.js";
import { JOURNEYS, writeIdentityLake } from "../identity-lake.js";
import { renderApp } from "./fixture.js";

describe("identity in the TUI", () => {
  let dir: string;
  let cache: Cache;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "evx-ui-identity-"));
    writeIdentityLake(join(dir, "lake"), "segment", JOURNEYS);
    cache = await Cache.open(join(dir, "cache.duckdb"), { create: true });
    await sync(cache, folderSource(join(dir, "lake")), { lake: { preset: "segment" } });
  });
  after(() => {
    cache.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The users column of the `landing_viewed` row of the Events tab. */
  const landingUsers = (frame: string) => Number(/landing_viewed\s+\d+\s+(\d+)/.exec(frame)?.[1]);

  it("opens on persons; I switches to user ids and back", async () => {
    const ex = new Executor(cache);
    const users = async (identity: "merged" | "raw") =>
      (
        await ex.run({
          kind: "catalog",
          identity,
          range: { from: "2023-06-01", to: "2023-06-03", tz: "UTC" },
        })
      ).result.events.find((e) => e.event_type === "landing_viewed")?.users;
    assert.deepEqual([await users("merged"), await users("raw")], [4, 6]);
    ex.close();
    const s = sessionFor(cache);
    const app = await renderApp({ ...s, close() {} }, { columns: 120 });
    try {
      let f = await app.waitFor((x) => /persons/.test(x) && landingUsers(x) === 4);
      await app.press("I");
      f = await app.waitFor((x) => /user ids/.test(x) && landingUsers(x) === 6);
      assert.match(f, /identity raw/);
      await app.press("I");
      await app.waitFor((x) => /persons/.test(x) && landingUsers(x) === 4);
    } finally {
      app.unmount();
    }
  });
});
