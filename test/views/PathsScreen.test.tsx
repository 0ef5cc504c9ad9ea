import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathRows } from "../../src/render/insights.js";
import { collapsedKeys, foldAt, pathsSpec, unfoldAt } from "../../src/views/screens/PathsScreen.js";
import { initialModels } from "../../src/views/state/state.js";
import { tempDir } from "../helpers/tmp.js";
import { assertFits, KEYS, renderApp, type SmallCache, smallCache, testSession } from "./fixture.js";

describe("Paths screen", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
  });
  after(() => c.dispose());

  it("draws the tree of the top event; ←/→ fold and unfold, r flips the direction, Enter re-anchors", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 34 });
    try {
      await app.waitFor("button_clicked");
      await app.press("6");
      let f = await app.waitFor((x) => /what they did after button_clicked/.test(x) && /^│ {2}├─ /m.test(x));
      assert.match(f, /^Paths · after button_clicked · depth 4 · top 5 · collapse repeats/m);
      // users, share of the parent (the anchored users here), share of all
      assert.match(f, /^├─ \S+ +[█▏▎▍▌▋▊▉]+ +[\d.k]+ +(\d+\.\d%) +\1$/m);
      assert.match(f, /^button_clicked +users parent +all$/m);
      // Two levels open; the nodes of the second level are folded (▸), deeper ones hidden.
      assert.match(f, /^│ {2}├─ \S+ ▸ /m);
      assert.doesNotMatch(f, /^│ {2}│ {2}[├└]─ /m);
      assertFits(f, 100, 34);
      // The first node is selected: fold it, its children go; unfold, they come back.
      const first = /^├─ (\S+)/m.exec(f)![1]!;
      await app.press(KEYS.left);
      f = await app.waitFor(new RegExp(`^├─ ${first} ▸`, "m"));
      assert.doesNotMatch(f.split("\n").find((l) => l.startsWith(`├─ ${first}`)) ?? "", /^│/);
      const lines = f.split("\n");
      const at = lines.findIndex((l) => l.startsWith(`├─ ${first}`));
      assert.match(lines[at + 1]!, /^[├└]─ /, "the next line is a sibling");
      await app.press(KEYS.right);
      f = await app.waitFor((x) => new RegExp(`^├─ ${first} `, "m").test(x) && /^│ {2}├─ /m.test(x));
      // → on a second-level node shows its children.
      await app.press("j", KEYS.right);
      f = await app.waitFor(/^│ {2}│ {2}[├└]─ /m);
      await app.press("k");
      // Down, ← folds that child, ← again goes back to its parent; Enter re-anchors on the node.
      await app.press("j", KEYS.left);
      await app.waitFor(/^│ {2}├─ \S+ ▸/m);
      await app.press(KEYS.left, KEYS.enter);
      f = await app.waitFor(new RegExp(`what they did after ${first}`));
      assert.match(f, new RegExp(`^Paths · after ${first} ·`, "m"));
      await app.press("r");
      f = await app.waitFor(new RegExp(`what they did before ${first}`));
      assert.match(f, /\(walking back\)/);
      // Depth 2, top 1: every level has one node and an (other).
      await app.press("n", KEYS.backspace, "2", KEYS.enter);
      await app.press("t", KEYS.backspace, "1", KEYS.enter);
      f = await app.waitFor((x) => x.includes("depth 2 · top 1") && /^│ {2}└─ \(other\)/m.test(x));
      assert.match(f, /^└─ \(other\)/m);
      await app.press("c");
      await app.waitFor("keep repeats");
      await app.press("W");
      await app.waitFor("Only events within this time of the anchor");
      await app.press(KEYS.enter); // the first choice
      await app.waitFor(/keep repeats · within \S+/);
    } finally {
      app.unmount();
    }
  });

  it("s shows the SQL, e exports the tree, d opens the range editor", async () => {
    const dir = tempDir();
    const app = await renderApp(testSession(c), { columns: 100, rows: 30, props: { exportDir: dir } });
    try {
      await app.waitFor("button_clicked");
      await app.press("6");
      await app.waitFor(/^├─ /m);
      await app.press("s");
      await app.waitFor("SQL of the Paths result");
      await app.press(KEYS.esc);
      await app.waitFor(/^├─ /m);
      await app.press("e");
      const f = await app.waitFor("Exported");
      const csv = /(\S+\.csv)/.exec(f)![1]!;
      const path = existsSync(csv) ? csv : join(dir, csv);
      assert.match(readFileSync(path, "utf8"), /^anchor,direction,level,path,users,share/);
      await app.press(KEYS.esc);
      await app.press("d");
      await app.waitFor(/range/i);
    } finally {
      app.unmount();
    }
  });

  it("u lists the selected node's users (its count), esc goes back to the tree", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press("6");
      const f0 = await app.waitFor(/^├─ /m);
      const m = /^├─ (\S+) .* (\d+) +\d+\.\d% +\d+\.\d%$/m.exec(f0)!;
      await app.press("u");
      const f = await app.waitFor(new RegExp(`^Users · path ${m[1]}\n${m[2]} users?\\b`, "m"));
      assert.match(f, /user\s+events\s+first seen\s+last seen/);
      assertFits(f, 100, 30);
      await app.press(KEYS.esc);
      await app.waitFor(/^├─ /m);
    } finally {
      app.unmount();
    }
  });

  it("folding helpers: ← on an open node folds it, on a leaf selects the parent; → unfolds", () => {
    const m = initialModels().paths;
    const result = {
      anchor: "a",
      direction: "after" as const,
      depth: 2,
      users: 3,
      nodes: [
        { path: ["b"], users: 2, share: 2 / 3 },
        { path: ["b", "(end)"], users: 2, share: 2 / 3 },
        { path: ["c"], users: 1, share: 1 / 3 },
      ],
    };
    const rows = pathRows(result);
    assert.deepEqual(
      rows.map((r) => r.indent + r.node.path.at(-1)),
      ["├─ b", "│  └─ (end)", "└─ c"],
    );
    const folded = foldAt(m, rows, 0);
    assert.deepEqual(folded.folded, ['["b"]']);
    const rows2 = pathRows(result, new Set(folded.folded));
    assert.equal(rows2.length, 2);
    assert.ok(rows2[0]!.collapsed);
    assert.deepEqual(unfoldAt(folded, rows2, 0).folded, []);
    assert.equal(foldAt({ ...m, cursor: 1 }, rows, 1).cursor, 0);
    assert.equal(pathsSpec(m, null), null);
    // The share of the parent comes from the node counts: b → (end) is 2 of b's 2.
    assert.deepEqual(
      rows.map((r) => r.parentShare),
      [2 / 3, 1, 1 / 3],
    );
  });

  it("opens with two levels: nodes below them start folded, → unfolds one, ← folds it again", () => {
    const m = initialModels().paths;
    const result = {
      anchor: "a",
      direction: "after" as const,
      depth: 3,
      users: 4,
      nodes: [
        { path: ["b"], users: 4, share: 1 },
        { path: ["b", "c"], users: 3, share: 0.75 },
        { path: ["b", "c", "d"], users: 3, share: 0.75 },
        { path: ["b", "(end)"], users: 1, share: 0.25 },
      ],
    };
    const rows = pathRows(result, collapsedKeys(m, result));
    assert.deepEqual(
      rows.map((r) => `${r.indent}${r.node.path.at(-1)}${r.collapsed ? " ▸" : ""}`),
      ["└─ b", "   ├─ c ▸", "   └─ (end)"],
    );
    const open = unfoldAt(m, rows, 1);
    assert.deepEqual(open.unfolded, ['["b","c"]']);
    const rows2 = pathRows(result, collapsedKeys(open, result));
    assert.equal(rows2.length, 4);
    assert.equal(rows2[2]!.parentShare, 1); // d: 3 of c's 3
    const closed = foldAt(open, rows2, 1);
    assert.deepEqual(closed.unfolded, []);
    assert.equal(pathRows(result, collapsedKeys(closed, result)).length, 3);
  });

  it("at 80×24: two levels, users · share of parent · share of all, the selection line says both", async () => {
    const app = await renderApp(testSession(c), { columns: 80, rows: 24 });
    try {
      await app.waitFor("button_clicked");
      await app.press("6");
      const f = await app.waitFor(/^├─ /m);
      assertFits(f, 80, 24);
      assert.match(f, / users parent +all$/m);
      assert.match(f, /^├─ \S+ +\S* +[\d.k]+ +(\d+\.\d%) +\1$/m);
      assert.match(f, /^│ {2}[├└]─ \S+ ▸ /m);
      assert.match(f, /: [\d,]+ users, \d+\.\d% of the anchored, \d+\.\d% of all/);
      await app.press("j");
      await app.waitFor(/ → \S+: [\d,]+ users, \d+\.\d% of the step before, \d+\.\d% of all/);
    } finally {
      app.unmount();
    }
  });
});

describe("Lifecycle screen", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
  });
  after(() => c.dispose());

  it("shows the stacked lifecycle chart; v switches to stickiness; i cycles the interval", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press("7");
      let f = await app.waitFor("█ new  ▓ returning  ▒ resurrecting  ░ dormant");
      assert.match(f, /^Lifecycle · lifecycle of button_clicked · per day/m);
      assert.match(f, /^ +0 ┼─+/m);
      // The first day's previous day is before the lake: that bucket is named incomplete.
      assert.match(f, /^\* incomplete: 06-01$/m);
      assertFits(f, 100, 30);
      await app.press("i");
      // Weeks of 05-29 (it and the week before start before the lake) and 06-05 (its week before
      // does), and 06-12 (runs past the lake): all three.
      f = await app.waitFor((x) => x.includes("per week") && /^\* incomplete: .*, .*, /m.test(x));
      assert.match(f, /^\* incomplete: W22 05-29, W23 06-05, W24 06-12$/m);
      await app.press("v");
      f = await app.waitFor((x) => /^1 day +/m.test(x) && x.includes("average"));
      assert.match(f, /^Stickiness · stickiness of button_clicked · per day/m);
      await app.press("i");
      await app.waitFor(/^1 week +/m);
    } finally {
      app.unmount();
    }
  });
});
