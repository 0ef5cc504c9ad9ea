import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  center,
  cleanText,
  displayWidth,
  padEnd,
  padStart,
  stripSgr,
  truncate,
  truncateAnsi,
  wrapText,
} from "../../src/render/sanitize.js";

/** Nothing a terminal would act on: no C0 (incl. ESC, BEL, NUL), DEL, C1 or bidi controls. */
function assertHarmless(s: string) {
  assert.doesNotMatch(s, /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/u, JSON.stringify(s));
}

describe("cleanText", () => {
  it("removes CSI sequences entirely", () => {
    assert.equal(cleanText("a\x1b[2Jb\x1b[31;1mred\x1b[0m"), "abred");
    assert.equal(cleanText("x\x1b[?1049hy"), "xy");
    assert.equal(cleanText("\x9b2Jz"), "z"); // 8-bit CSI
  });

  it("removes OSC titles and hyperlinks with BEL or ST terminators", () => {
    assert.equal(cleanText("\x1b]0;pwned\x07name"), "name");
    assert.equal(cleanText("\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\"), "click");
    assert.equal(cleanText("\x9d0;t\x9cok"), "ok"); // 8-bit OSC and ST
    assert.equal(cleanText("\x1bPq#0;1\x1b\\done"), "done"); // DCS
  });

  it("removes other escapes and leaves an unterminated OSC inert", () => {
    assert.equal(cleanText("a\x1bcb\x1b(Bc\x1b7d"), "abcd");
    const s = cleanText("\x1b]0;never ends");
    assertHarmless(s);
    assert.ok(s.includes("never ends"));
  });

  it("removes C1 controls, DEL and NUL", () => {
    assert.equal(cleanText("a\x85b\x9fc\x7fd\x00e\x07f\x08g"), "abcdefg");
  });

  it("removes bidi overrides, embeddings, isolates and marks", () => {
    const trojan = "admin\u202e\u2066txt.exe\u2069\u202c\u200f";
    assert.equal(cleanText(trojan), "admintxt.exe");
    for (const c of [
      "\u202a",
      "\u202b",
      "\u202c",
      "\u202d",
      "\u202e",
      "\u2066",
      "\u2067",
      "\u2068",
      "\u2069",
    ]) {
      assert.equal(cleanText(`x${c}y`), "xy");
    }
  });

  it("turns tabs and line breaks into single spaces", () => {
    assert.equal(cleanText("a\tb\nc\r\nd\re"), "a b c d e");
  });

  it("keeps ordinary text, CJK and emoji", () => {
    assert.equal(cleanText("button_clicked[名前=保存] ✓ é"), "button_clicked[名前=保存] ✓ é");
  });

  it("is harmless on a mixed hostile string", () => {
    const hostile =
      "\x1b[2J\x1b[H\x1b]0;t\x07\x1b]52;c;Zm9v\x07\x00\x01\x1b\x7f\x80\x9b\x9d\u202e\u2067x\x1b[999;999H\x1bP+q\x1b\\";
    const s = cleanText(hostile);
    assertHarmless(s);
    assert.equal(s, "x");
  });
});

describe("width-aware helpers", () => {
  it("measures CJK as 2 and combining marks as 0", () => {
    assert.equal(displayWidth("日本"), 4);
    assert.equal(displayWidth("e\u0301"), 1);
    assert.equal(displayWidth("\x1b[31mred\x1b[0m"), 3);
  });

  it("truncates with an ellipsis to at most width columns", () => {
    assert.equal(truncate("hello", 10), "hello");
    assert.equal(truncate("hello world", 8), "hello w…");
    assert.equal(truncate("hello", 1), "…");
    assert.equal(truncate("hello", 0), "");
    const t = truncate("日本語のテキスト", 6);
    assert.ok(displayWidth(t) <= 6);
    assert.ok(t.endsWith("…"));
    assert.equal(truncate("e\u0301e\u0301e\u0301e\u0301", 3), "e\u0301e\u0301…"); // never splits a grapheme
  });

  it("pads to exactly width columns", () => {
    assert.equal(padEnd("ab", 4), "ab  ");
    assert.equal(padStart("ab", 4), "  ab");
    assert.equal(displayWidth(padEnd("日本", 5)), 5);
    assert.equal(displayWidth(padStart("日本語", 5)), 5);
    assert.equal(padEnd("abcdef", 4), "abc…");
    assert.equal(center("ab", 6), "  ab  ");
  });

  it("truncates styled strings keeping colour codes balanced", () => {
    const s = `\x1b[36m${"x".repeat(20)}\x1b[0m`;
    const t = truncateAnsi(s, 10);
    assert.equal(displayWidth(t), 10);
    assert.equal(stripSgr(t), `${"x".repeat(9)}…`);
    assert.ok(t.includes("\x1b[0m"));
  });

  it("wraps words into lines of at most width", () => {
    assert.deepEqual(wrapText("one two three four", 9), ["one two", "three", "four"]);
    assert.deepEqual(wrapText("abcdefghij", 4), ["abcd", "efgh", "ij"]);
    assert.deepEqual(wrapText("", 4), [""]);
  });
});
