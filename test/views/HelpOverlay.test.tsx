import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { render } from "ink-testing-library";
import { displayWidth } from "../../src/render/sanitize.js";
import { type Binding, KEYMAP, SCOPES } from "../../src/views/keymap.js";
import { HelpOverlay, helpLayout } from "../../src/views/widgets/HelpOverlay.js";

const tick = () => new Promise((r) => setImmediate(r));

async function frameAt(width: number, height: number, scroll: number): Promise<string> {
  const app = render(<HelpOverlay width={width} height={height} scroll={scroll} />);
  await tick();
  const frame = app.lastFrame() ?? "";
  app.unmount();
  return frame;
}

/** Every frame needed to see the whole table, scrolling one body page at a time. */
async function allFrames(width: number, height: number): Promise<string[]> {
  const { maxScroll, bodyHeight } = helpLayout(width, height);
  const frames: string[] = [];
  for (let s = 0; ; s += Math.max(1, bodyHeight - 1)) {
    frames.push(await frameAt(width, height, Math.min(s, maxScroll)));
    if (s >= maxScroll) break;
  }
  return frames;
}

describe("HelpOverlay", () => {
  for (const [width, height] of [
    [80, 24],
    [120, 40],
    [200, 60],
  ] as const) {
    it(`lists every keymap entry at ${width}×${height}`, async () => {
      const frames = await allFrames(width, height);
      const text = frames.join("\n");
      for (const b of KEYMAP as readonly Binding[]) {
        assert.ok(text.includes(b.description), `missing "${b.description}" (${b.id})`);
        assert.ok(text.includes(b.keys.join("/")), `missing keys of ${b.id}`);
      }
      for (const s of SCOPES) assert.ok(text.includes(s.title), `missing heading ${s.title}`);
      for (const f of frames) {
        const lines = f.split("\n");
        assert.ok(lines.length <= height, `frame has ${lines.length} lines > ${height}`);
        for (const l of lines) assert.ok(displayWidth(l) <= width, `line wider than ${width}: ${l}`);
      }
    });
  }

  it("uses columns when wide and scrolls when it does not fit", () => {
    const wide = helpLayout(200, 60);
    assert.ok(wide.columns >= 2);
    assert.equal(wide.maxScroll, 0);
    const small = helpLayout(80, 24);
    assert.equal(small.columns, 2);
    assert.ok(small.maxScroll > 0);
  });

  it("clamps the scroll offset and shows the position", async () => {
    const { maxScroll, rows } = helpLayout(80, 24);
    const f = await frameAt(80, 24, 10_000);
    assert.match(f, new RegExp(`of ${rows.length}`));
    assert.match(f, new RegExp(`${maxScroll + 1}-${rows.length} of`));
  });

  it("still renders every description, wrapped, in a narrow column", () => {
    const { rows } = helpLayout(30, 200);
    const text = rows.map((r) => r.map((s) => s.text).join("")).join("\n");
    for (const b of KEYMAP as readonly Binding[]) {
      const firstWord = b.description.split(" ")[0]!;
      assert.ok(text.includes(firstWord), b.id);
    }
    for (const r of rows) assert.ok(displayWidth(r.map((s) => s.text).join("")) <= 30);
  });
});
