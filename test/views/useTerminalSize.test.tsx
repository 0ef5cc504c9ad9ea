import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Text } from "ink";
import { render } from "ink-testing-library";
import { measure, TerminalSizeContext, useTerminalSize } from "../../src/views/hooks/useTerminalSize.js";

const tick = () => new Promise((r) => setImmediate(r));

function Probe() {
  const { columns, rows } = useTerminalSize();
  return <Text>{`${columns}x${rows}`}</Text>;
}

describe("useTerminalSize", () => {
  it("falls back to 80×24 per missing dimension", () => {
    assert.deepEqual(measure(undefined), { columns: 80, rows: 24 });
    assert.deepEqual(measure({ columns: 0 }), { columns: 80, rows: 24 });
    assert.deepEqual(measure({ columns: 132, rows: 50 }), { columns: 132, rows: 50 });
  });

  it("reads Ink's stdout and follows resize events", async () => {
    const app = render(<Probe />);
    await tick();
    // ink-testing-library's stdout is 100 columns with no rows.
    assert.equal(app.lastFrame(), "100x24");
    const stdout = app.stdout as unknown as { rows?: number };
    Object.defineProperty(app.stdout, "columns", { get: () => 60, configurable: true });
    stdout.rows = 20;
    app.stdout.emit("resize");
    // Ink throttles redraws (maxFps), so poll for the new frame.
    for (let i = 0; i < 50 && app.lastFrame() !== "60x20"; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(app.lastFrame(), "60x20");
    app.unmount();
  });

  it("lets a context inject the size", async () => {
    const app = render(
      <TerminalSizeContext.Provider value={{ columns: 40, rows: 12 }}>
        <Probe />
      </TerminalSizeContext.Provider>,
    );
    await tick();
    assert.equal(app.lastFrame(), "40x12");
    app.unmount();
  });
});
