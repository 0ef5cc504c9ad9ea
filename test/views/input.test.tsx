import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Text } from "ink";
import { render } from "ink-testing-library";
import { useState } from "react";
import { InputProvider, PRIORITY, splitKeys, useKeys } from "../../src/views/hooks/input.js";
import { NO_KEY } from "../../src/views/keymap.js";
import { sleep } from "./fixture.js";

function Probe({ log }: { log: string[] }) {
  const [open, setOpen] = useState(false);
  const [text, setText] = useState("");
  const [n, setN] = useState(0);
  // Screen: `/` opens a prompt, arrows count.
  useKeys(
    (input, key) => {
      if (input === "/") setOpen(true);
      else if (key.downArrow) setN((x) => x + 1);
      else return false;
      log.push(`screen:${input || "down"}`);
      return true;
    },
    { priority: PRIORITY.screen },
  );
  // Global: `q` is logged (would quit), but never while the prompt is open.
  useKeys(
    (input) => {
      if (input !== "q") return false;
      log.push("global:q");
      return true;
    },
    { priority: PRIORITY.global },
  );
  // Prompt: modal, takes every key; enter closes.
  useKeys(
    (input, key) => {
      if (key.return) setOpen(false);
      else setText((t) => t + input);
      return true;
    },
    { priority: PRIORITY.prompt, modal: true, isActive: open },
  );
  return <Text>{`open=${open} text=${text} n=${n}`}</Text>;
}

/** Writes each chunk, then polls (Ink throttles, keys are dispatched one commit at a time). */
async function frameAfter(
  app: ReturnType<typeof render>,
  chunks: string[],
  expect?: string,
): Promise<string> {
  for (const c of chunks) {
    app.stdin.write(c);
    await sleep(20);
  }
  const end = Date.now() + 3000;
  while (expect !== undefined && app.lastFrame() !== expect && Date.now() < end) await sleep(10);
  await sleep(30);
  return app.lastFrame() ?? "";
}

describe("input dispatcher", () => {
  it("splits typed-ahead text into keys, each dispatched after the previous one's updates", async () => {
    const log: string[] = [];
    const app = render(
      <InputProvider>
        <Probe log={log} />
      </InputProvider>,
    );
    await sleep(20);
    // One chunk: open the prompt, type into it (q included), close it, then q reaches the global layer.
    assert.equal(await frameAfter(app, ["/abq\rq"], "open=false text=abq n=0"), "open=false text=abq n=0");
    assert.deepEqual(log, ["screen:/", "global:q"]);
    // Several escape sequences in one read are separate keys, in order.
    assert.equal(
      await frameAfter(app, ["\x1b[B\x1b[B\x1b[B"], "open=false text=abq n=3"),
      "open=false text=abq n=3",
    );
    app.unmount();
  });

  it("an open modal layer takes keys before the global and screen layers", async () => {
    const log: string[] = [];
    const app = render(
      <InputProvider>
        <Probe log={log} />
      </InputProvider>,
    );
    await sleep(20);
    await frameAfter(app, ["/"], "open=true text= n=0");
    assert.equal(await frameAfter(app, ["q", "\x1b[B"], "open=true text=q n=0"), "open=true text=q n=0");
    assert.deepEqual(log, ["screen:/"]);
    app.unmount();
  });

  it("maps control characters inside a chunk, and ESC+letter to esc then the letter", () => {
    const keys = splitKeys("a\rB\t\x7f", { ...NO_KEY });
    assert.deepEqual(
      keys.map(([i, k]) => [i, k.return, k.shift, k.tab, k.delete]),
      [
        ["a", false, false, false, false],
        ["", true, false, false, false],
        ["B", false, true, false, false],
        ["", false, false, true, false],
        ["", false, false, false, true],
      ],
    );
    const esc = splitKeys("e", { ...NO_KEY, meta: true });
    assert.equal(esc.length, 2);
    assert.equal(esc[0]![1].escape, true);
    assert.deepEqual([esc[1]![0], esc[1]![1].meta], ["e", false]);
    // A real escape key stays one key; ctrl keys are untouched.
    assert.equal(splitKeys("", { ...NO_KEY, escape: true, meta: true }).length, 1);
    assert.deepEqual(splitKeys("c", { ...NO_KEY, ctrl: true }), [["c", { ...NO_KEY, ctrl: true }]]);
  });
});
