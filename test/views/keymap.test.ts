import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Key } from "ink";
import {
  type Binding,
  bindingsFor,
  expandKey,
  KEYMAP,
  keyLabel,
  keyMatcher,
  matches,
  NO_KEY,
  resolve,
  SCOPES,
} from "../../src/views/keymap.js";

const table = KEYMAP as readonly Binding[];
const k = (over: Partial<Key> = {}): Key => ({ ...NO_KEY, ...over });

describe("keymap table", () => {
  it("has unique ids", () => {
    const ids = table.map((b) => b.id);
    assert.equal(new Set(ids).size, ids.length);
  });

  it("binds no key twice in a scope (global keys count in every scope but a panel's)", () => {
    for (const { scope, panel, modal } of SCOPES) {
      const seen = new Map<string, string>();
      // A panel's keys come before the global ones (it takes tab and esc for itself); a modal scope
      // (pickers, prompts) takes every key while it is open.
      const relevant =
        scope === "global" || panel || modal
          ? bindingsFor(scope)
          : [...bindingsFor("global"), ...bindingsFor(scope)];
      for (const b of relevant) {
        for (const name of b.keys) {
          for (const key of expandKey(name)) {
            const prev = seen.get(key);
            assert.equal(prev, undefined, `${scope}: "${key}" bound by ${prev} and ${b.id}`);
            seen.set(key, b.id);
          }
        }
      }
    }
  });

  it("a panel takes only tab, esc and y from the global keys (e, s, Y, q, ? still reach them)", () => {
    const global = new Set(bindingsFor("global").flatMap((b) => b.keys.flatMap(expandKey)));
    for (const { scope, panel } of SCOPES) {
      if (!panel) continue;
      const taken = bindingsFor(scope)
        .flatMap((b) => b.keys.flatMap(expandKey))
        .filter((k) => global.has(k));
      // y copies the user id there instead of the command.
      assert.deepEqual(taken.sort(), ["esc", "tab", "y"], scope);
    }
    assert.equal(resolve("drill", "e", k())?.id, "export");
    assert.equal(resolve("drill", "", k({ tab: true }))?.id, "drill.flip");
  });

  it("uses only key names the matcher understands, and every scope is known", () => {
    const scopes = new Set(SCOPES.map((s) => s.scope));
    for (const b of table) {
      assert.ok(scopes.has(b.scope), b.id);
      assert.ok(b.description.length > 0, b.id);
      for (const name of b.keys) assert.doesNotThrow(() => keyMatcher(name), `${b.id}: ${name}`);
    }
    assert.throws(() => keyMatcher("hyper+x"));
  });

  it("covers the bindings of the spec", () => {
    const keysIn = (scope: string) => new Set(table.filter((b) => b.scope === scope).flatMap((b) => b.keys));
    const expect: Record<string, string[]> = {
      global: [
        "1-7",
        "tab",
        "shift+tab",
        "[",
        "]",
        "d",
        "?",
        "s",
        "e",
        "q",
        "ctrl+c",
        "esc",
        "L",
        "y",
        "Y",
        "w",
        "'",
        ":",
      ],
      events: ["/", "enter", "up", "down", "j", "k", "pgup", "pgdn", "g", "G", "home", "end"],
      trends: ["a", "x", "m", "i", "c", "b", "f", "t", "left", "right", "u"],
      funnel: ["a", "x", "J", "K", "W", "b", "v", "i", "c", "enter"],
      retention: ["a", "r", "p", "n", "o", "left", "right", "enter"],
      sync: ["space", "shift+up", "shift+down", "S", "D", "r"],
      paths: ["a", "r", "n", "t", "c", "W", "Z", "f", "left", "right", "enter", "up", "down"],
      lifecycle: ["a", "v", "i", "f"],
      drill: ["enter", "tab", "/", "esc", "up", "down", "y", "g", "G", "C"],
    };
    for (const [scope, keys] of Object.entries(expect)) {
      const have = keysIn(scope);
      for (const key of keys) assert.ok(have.has(key), `${scope} lacks ${key}`);
    }
  });
});

describe("matches", () => {
  it("compares input for letters, case-sensitively", () => {
    assert.ok(matches("quit", "q", k()));
    assert.ok(!matches("quit", "Q", k({ shift: true })));
    assert.ok(matches("sync.sync", "S", k({ shift: true })));
    assert.ok(!matches("sync.sync", "s", k()));
    assert.ok(matches("sql", "s", k()));
    assert.ok(matches("funnel.moveDown", "J", k({ shift: true })));
    assert.ok(!matches("funnel.moveDown", "j", k()));
    assert.ok(matches("help", "?", k({ shift: true })));
    assert.ok(!matches("quit", "q", k({ ctrl: true })));
    assert.ok(!matches("quit", "q", k({ meta: true })));
  });

  it("matches digit ranges", () => {
    for (const d of ["1", "2", "3", "4", "5", "6", "7"]) assert.ok(matches("tab.goto", d, k()));
    assert.ok(!matches("tab.goto", "8", k()));
    assert.ok(!matches("tab.goto", "0", k()));
    assert.ok(!matches("tab.goto", "12", k()));
  });

  it("uses Ink's flags for named keys", () => {
    assert.ok(matches("events.open", "\r", k({ return: true })));
    assert.ok(matches("cancel", "", k({ escape: true, meta: true })));
    assert.ok(matches("tab.next", "", k({ tab: true })));
    assert.ok(!matches("tab.next", "]", k()));
    assert.ok(matches("history.forward", "]", k()));
    assert.ok(matches("history.back", "[", k()));
    assert.ok(!matches("tab.next", "", k({ tab: true, shift: true })));
    assert.ok(matches("tab.prev", "", k({ tab: true, shift: true })));
    assert.ok(matches("events.up", "", k({ upArrow: true })));
    assert.ok(matches("events.up", "k", k()));
    assert.ok(!matches("events.up", "", k({ upArrow: true, shift: true })));
    assert.ok(matches("sync.extendUp", "", k({ upArrow: true, shift: true })));
    assert.ok(matches("sync.extendDown", "", k({ downArrow: true, shift: true })));
    assert.ok(matches("events.pageDown", "", k({ pageDown: true })));
    assert.ok(matches("sync.mark", " ", k()));
    assert.ok(matches("interrupt", "c", k({ ctrl: true })));
    assert.ok(!matches("interrupt", "c", k()));
    assert.ok(keyMatcher("backspace")("", k({ delete: true })));
    assert.ok(keyMatcher("backspace")("", k({ backspace: true })));
  });

  it("resolves a keypress per screen, screen bindings first", () => {
    assert.equal(resolve("retention", "r", k())?.id, "retention.return");
    assert.equal(resolve("sync", "r", k())?.id, "sync.rejects");
    assert.equal(resolve("trends", "p", k()), undefined);
    assert.equal(resolve("funnel", "q", k())?.id, "quit");
    assert.equal(resolve("global", "a", k()), undefined);
    assert.equal(resolve("trends", "c", k())?.id, "trends.compare");
    assert.equal(resolve("funnel", "c", k())?.id, "funnel.compare");
    assert.equal(resolve("funnel", "i", k())?.id, "funnel.interval");
    assert.equal(resolve("retention", "c", k())?.id, "retention.cohort");
    assert.equal(resolve("events", "c", k()), undefined);
  });

  it("labels keys for hints", () => {
    assert.equal(keyLabel("tab.next"), "tab");
    assert.equal(keyLabel("history.back"), "backspace/[");
    assert.equal(keyLabel("quit"), "q");
  });
});
