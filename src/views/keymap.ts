/**
 * Every key binding in evx, as data. Screens dispatch through `matches(id, input, key)`, the `?`
 * overlay renders this same table, so the help can never drift from behaviour; the `:` command
 * palette lists it too and runs an action by sending its key (`keyEvent`).
 *
 * Key names (display form):
 * - a single character compares Ink's `input` exactly (case-sensitive: `d` ≠ `D`; `?`, `/`, `[`);
 * - a range `1-5` matches any single character from `1` to `5`;
 * - named keys: `enter`, `esc`, `tab`, `space`, `backspace`, `up`, `down`, `left`, `right`,
 *   `pgup`, `pgdn`, `home`, `end`;
 * - modifiers: `shift+tab`, `shift+up`, `shift+down`, `ctrl+<letter>`.
 *
 * Global bindings apply on every screen, so no screen may reuse a global key (tests check this).
 */
import type { Key } from "ink";

export type Scope =
  | "global"
  | "events"
  | "trends"
  | "funnel"
  | "retention"
  | "sync"
  | "paths"
  | "lifecycle"
  | "drill"
  | "picker";

export interface Binding {
  id: string;
  keys: readonly string[];
  scope: Scope;
  description: string;
  /** Cursor movement: the command palette leaves it to its keys (it lists actions). */
  nav?: boolean;
}

/**
 * Scope order and headings, as the help overlay shows them. A `panel` scope belongs to a panel drawn
 * over a screen (the drill-down lists): its keys come before the global ones, so it may take a global
 * key for itself (`tab` flips the list, `esc` goes back); the keys it does not use still reach the
 * global bindings (`e` exports the list, `s` shows its SQL).
 */
export const SCOPES: readonly { scope: Scope; title: string; panel?: boolean; modal?: boolean }[] = [
  { scope: "global", title: "Everywhere" },
  { scope: "events", title: "Events" },
  { scope: "trends", title: "Trends" },
  { scope: "funnel", title: "Funnel" },
  { scope: "retention", title: "Retention" },
  { scope: "sync", title: "Sync" },
  { scope: "paths", title: "Paths" },
  { scope: "lifecycle", title: "Lifecycle" },
  { scope: "drill", title: "Users and timeline", panel: true },
  // Modal: an open picker or prompt takes every key (typing `y` into a filter types a `y`).
  { scope: "picker", title: "Pickers and prompts", modal: true },
];

export const KEYMAP = [
  // global
  { id: "tab.goto", keys: ["1-7"], scope: "global", description: "Go to tab 1–7" },
  { id: "tab.next", keys: ["tab"], scope: "global", description: "Next tab" },
  { id: "tab.prev", keys: ["shift+tab"], scope: "global", description: "Previous tab" },
  {
    id: "history.back",
    keys: ["backspace", "["],
    scope: "global",
    description: "Back to the screen before",
  },
  { id: "history.forward", keys: ["]"], scope: "global", description: "Forward again" },
  { id: "range", keys: ["d"], scope: "global", description: "Edit date range" },
  { id: "help", keys: ["?"], scope: "global", description: "Toggle this help" },
  { id: "fullText", keys: ["z"], scope: "global", description: "Read cut text in full" },
  { id: "palette", keys: [":"], scope: "global", description: "Run an action by name" },
  { id: "sql", keys: ["s"], scope: "global", description: "Show the SQL" },
  { id: "export", keys: ["e"], scope: "global", description: "Export the result" },
  { id: "copy.command", keys: ["y"], scope: "global", description: "Copy as an evx command" },
  { id: "copy.sql", keys: ["Y"], scope: "global", description: "Copy the SQL" },
  { id: "view.save", keys: ["w"], scope: "global", description: "Save view under a name" },
  { id: "view.open", keys: ["'"], scope: "global", description: "Open a saved view" },
  { id: "quit", keys: ["q"], scope: "global", description: "Quit" },
  { id: "interrupt", keys: ["ctrl+c"], scope: "global", description: "Cancel query; again: quit" },
  { id: "cancel", keys: ["esc"], scope: "global", description: "Cancel query/sync, close" },
  { id: "rerun", keys: ["ctrl+r"], scope: "global", description: "Run the queries again" },
  { id: "live", keys: ["L"], scope: "global", description: "Live: sync every --every" },
  { id: "identity", keys: ["I"], scope: "global", description: "Identity: merged / raw" },
  { id: "sample", keys: ["%"], scope: "global", description: "Sample users: off/10%/1%" },
  // events
  { id: "events.filter", keys: ["/"], scope: "events", description: "Filter event names" },
  { id: "events.open", keys: ["enter"], scope: "events", description: "Open event in Trends" },
  { id: "events.up", keys: ["up", "k"], scope: "events", description: "Move up", nav: true },
  { id: "events.down", keys: ["down", "j"], scope: "events", description: "Move down", nav: true },
  { id: "events.pageUp", keys: ["pgup"], scope: "events", description: "Page up", nav: true },
  { id: "events.pageDown", keys: ["pgdn"], scope: "events", description: "Page down", nav: true },
  { id: "events.left", keys: ["left", "h"], scope: "events", description: "Scroll columns left", nav: true },
  {
    id: "events.right",
    keys: ["right", "l"],
    scope: "events",
    description: "Scroll columns right",
    nav: true,
  },
  { id: "events.first", keys: ["home", "g"], scope: "events", description: "First event", nav: true },
  { id: "events.last", keys: ["end", "G"], scope: "events", description: "Last event", nav: true },
  // trends
  { id: "trends.add", keys: ["a"], scope: "trends", description: "Add an event" },
  { id: "trends.remove", keys: ["x"], scope: "trends", description: "Remove selected event" },
  { id: "trends.up", keys: ["up", "k"], scope: "trends", description: "Select previous event", nav: true },
  { id: "trends.down", keys: ["down", "j"], scope: "trends", description: "Select next event", nav: true },
  { id: "trends.measure", keys: ["m"], scope: "trends", description: "Change measure" },
  { id: "trends.interval", keys: ["i"], scope: "trends", description: "Change interval" },
  { id: "trends.compare", keys: ["c"], scope: "trends", description: "Compare: prev/1d/1w/off" },
  { id: "trends.breakdown", keys: ["b"], scope: "trends", description: "Break down by property" },
  { id: "trends.filter", keys: ["f"], scope: "trends", description: "Add a filter" },
  { id: "trends.table", keys: ["t"], scope: "trends", description: "Toggle chart / table" },
  { id: "trends.clearFilters", keys: ["F"], scope: "trends", description: "Clear filters" },
  { id: "trends.pageUp", keys: ["pgup"], scope: "trends", description: "Scroll table up", nav: true },
  { id: "trends.pageDown", keys: ["pgdn"], scope: "trends", description: "Scroll table down", nav: true },
  {
    id: "trends.cursorLeft",
    keys: ["left", "h"],
    scope: "trends",
    description: "Cursor to previous point",
    nav: true,
  },
  {
    id: "trends.cursorRight",
    keys: ["right", "l"],
    scope: "trends",
    description: "Cursor to next point",
    nav: true,
  },
  { id: "trends.users", keys: ["u"], scope: "trends", description: "Users of cursor's bucket" },
  { id: "trends.formula", keys: ["="], scope: "trends", description: "Formula, e.g. A/B*100" },
  { id: "trends.annotateFrom", keys: ["r"], scope: "trends", description: "Mark new values of a key" },
  { id: "trends.annotations", keys: ["n"], scope: "trends", description: "Annotations in full" },
  // funnel
  { id: "funnel.add", keys: ["a"], scope: "funnel", description: "Add a step" },
  { id: "funnel.remove", keys: ["x"], scope: "funnel", description: "Remove selected step" },
  { id: "funnel.up", keys: ["up", "k"], scope: "funnel", description: "Select previous step", nav: true },
  { id: "funnel.down", keys: ["down", "j"], scope: "funnel", description: "Select next step", nav: true },
  { id: "funnel.left", keys: ["left", "h"], scope: "funnel", description: "Scroll table left", nav: true },
  { id: "funnel.right", keys: ["right", "l"], scope: "funnel", description: "Scroll table right", nav: true },
  { id: "funnel.pageUp", keys: ["pgup"], scope: "funnel", description: "Scroll table up", nav: true },
  { id: "funnel.pageDown", keys: ["pgdn"], scope: "funnel", description: "Scroll table down", nav: true },
  { id: "funnel.moveDown", keys: ["J"], scope: "funnel", description: "Move step down" },
  { id: "funnel.moveUp", keys: ["K"], scope: "funnel", description: "Move step up" },
  { id: "funnel.window", keys: ["W"], scope: "funnel", description: "Set conversion window" },
  { id: "funnel.breakdown", keys: ["b"], scope: "funnel", description: "Break down by property" },
  { id: "funnel.filter", keys: ["f"], scope: "funnel", description: "Add a filter" },
  { id: "funnel.overTime", keys: ["v"], scope: "funnel", description: "Conversion over time" },
  { id: "funnel.interval", keys: ["i"], scope: "funnel", description: "Change over-time interval" },
  { id: "funnel.compare", keys: ["c"], scope: "funnel", description: "Compare: prev/1d/1w/off" },
  { id: "funnel.clearFilters", keys: ["F"], scope: "funnel", description: "Clear filters" },
  { id: "funnel.users", keys: ["enter"], scope: "funnel", description: "Users who reached step" },
  { id: "funnel.order", keys: ["o"], scope: "funnel", description: "Order: ordered/strict/any" },
  { id: "funnel.exclude", keys: ["X"], scope: "funnel", description: "Exclude an event" },
  { id: "funnel.clearExclusions", keys: ["Z"], scope: "funnel", description: "Clear exclusions" },
  { id: "funnel.hold", keys: ["H"], scope: "funnel", description: "Hold a property constant" },
  { id: "funnel.value", keys: ["V"], scope: "funnel", description: "Sum a property per step" },
  { id: "funnel.timeToConvert", keys: ["t"], scope: "funnel", description: "Time to convert 1 → last" },
  { id: "funnel.annotateFrom", keys: ["r"], scope: "funnel", description: "Mark new values of a key" },
  { id: "funnel.annotations", keys: ["n"], scope: "funnel", description: "Annotations in full" },
  // retention
  { id: "retention.start", keys: ["a"], scope: "retention", description: "Pick the start event" },
  { id: "retention.return", keys: ["r"], scope: "retention", description: "Pick the return event" },
  { id: "retention.period", keys: ["p"], scope: "retention", description: "Change period" },
  { id: "retention.periods", keys: ["n"], scope: "retention", description: "Set number of periods" },
  { id: "retention.mode", keys: ["o"], scope: "retention", description: "Toggle on / on-or-after" },
  { id: "retention.filter", keys: ["f"], scope: "retention", description: "Add a filter" },
  { id: "retention.clearFilters", keys: ["F"], scope: "retention", description: "Clear filters" },
  { id: "retention.up", keys: ["up", "k"], scope: "retention", description: "Previous cohort", nav: true },
  { id: "retention.down", keys: ["down", "j"], scope: "retention", description: "Next cohort", nav: true },
  {
    id: "retention.left",
    keys: ["left", "h"],
    scope: "retention",
    description: "Previous period",
    nav: true,
  },
  { id: "retention.right", keys: ["right", "l"], scope: "retention", description: "Next period", nav: true },
  { id: "retention.firstPeriod", keys: ["home"], scope: "retention", description: "First period", nav: true },
  { id: "retention.lastPeriod", keys: ["end"], scope: "retention", description: "Last period", nav: true },
  { id: "retention.users", keys: ["enter"], scope: "retention", description: "Users of selected cell" },
  { id: "retention.cohort", keys: ["c"], scope: "retention", description: "Cohorts: first/recurring" },
  { id: "retention.value", keys: ["V"], scope: "retention", description: "Sum a property per cell" },
  { id: "retention.breakdown", keys: ["b"], scope: "retention", description: "Break down by START prop" },
  { id: "retention.nextValue", keys: ["v"], scope: "retention", description: "Next breakdown table" },
  // sync
  { id: "sync.up", keys: ["up", "k"], scope: "sync", description: "Move up", nav: true },
  { id: "sync.down", keys: ["down", "j"], scope: "sync", description: "Move down", nav: true },
  { id: "sync.pageUp", keys: ["pgup"], scope: "sync", description: "Page up", nav: true },
  { id: "sync.pageDown", keys: ["pgdn"], scope: "sync", description: "Page down", nav: true },
  { id: "sync.mark", keys: ["space"], scope: "sync", description: "Mark / unmark partition" },
  { id: "sync.extendUp", keys: ["shift+up"], scope: "sync", description: "Extend selection up", nav: true },
  {
    id: "sync.extendDown",
    keys: ["shift+down"],
    scope: "sync",
    description: "Extend selection down",
    nav: true,
  },
  { id: "sync.sync", keys: ["S"], scope: "sync", description: "Sync marked partitions" },
  { id: "sync.evict", keys: ["D"], scope: "sync", description: "Evict marked from cache" },
  { id: "sync.rejects", keys: ["r"], scope: "sync", description: "Show rejected lines" },
  { id: "sync.open", keys: ["enter"], scope: "sync", description: "Open a rejected line" },
  { id: "sync.refresh", keys: ["R"], scope: "sync", description: "List the source again" },
  // paths
  { id: "paths.anchor", keys: ["a"], scope: "paths", description: "Pick the anchor event" },
  { id: "paths.direction", keys: ["r"], scope: "paths", description: "Toggle after / before" },
  { id: "paths.depth", keys: ["n"], scope: "paths", description: "Set depth (1–10)" },
  { id: "paths.top", keys: ["t"], scope: "paths", description: "Set children per node" },
  { id: "paths.collapse", keys: ["c"], scope: "paths", description: "Toggle collapse repeats" },
  { id: "paths.within", keys: ["W"], scope: "paths", description: "Time limit from anchor" },
  { id: "paths.clearWithin", keys: ["Z"], scope: "paths", description: "Clear the time limit" },
  { id: "paths.filter", keys: ["f"], scope: "paths", description: "Add a filter" },
  { id: "paths.clearFilters", keys: ["F"], scope: "paths", description: "Clear filters" },
  { id: "paths.up", keys: ["up", "k"], scope: "paths", description: "Previous node", nav: true },
  { id: "paths.down", keys: ["down", "j"], scope: "paths", description: "Next node", nav: true },
  { id: "paths.fold", keys: ["left", "h"], scope: "paths", description: "Fold node / go to parent" },
  { id: "paths.unfold", keys: ["right", "l"], scope: "paths", description: "Expand node" },
  { id: "paths.reanchor", keys: ["enter"], scope: "paths", description: "Re-anchor on the node" },
  { id: "paths.users", keys: ["u"], scope: "paths", description: "Users of the node" },
  { id: "paths.pageUp", keys: ["pgup"], scope: "paths", description: "Page up", nav: true },
  { id: "paths.pageDown", keys: ["pgdn"], scope: "paths", description: "Page down", nav: true },
  { id: "paths.first", keys: ["home", "g"], scope: "paths", description: "First node", nav: true },
  { id: "paths.last", keys: ["end", "G"], scope: "paths", description: "Last node", nav: true },
  // lifecycle and stickiness
  { id: "lifecycle.event", keys: ["a"], scope: "lifecycle", description: "Pick the event" },
  { id: "lifecycle.view", keys: ["v"], scope: "lifecycle", description: "Lifecycle / stickiness" },
  { id: "lifecycle.interval", keys: ["i"], scope: "lifecycle", description: "Change interval" },
  { id: "lifecycle.filter", keys: ["f"], scope: "lifecycle", description: "Add a filter" },
  { id: "lifecycle.clearFilters", keys: ["F"], scope: "lifecycle", description: "Clear filters" },
  {
    id: "lifecycle.cursorLeft",
    keys: ["left", "h"],
    scope: "lifecycle",
    description: "Cursor to previous bucket",
    nav: true,
  },
  {
    id: "lifecycle.cursorRight",
    keys: ["right", "l"],
    scope: "lifecycle",
    description: "Cursor to next bucket",
    nav: true,
  },
  {
    id: "lifecycle.up",
    keys: ["up", "k"],
    scope: "lifecycle",
    description: "Scroll histogram up",
    nav: true,
  },
  {
    id: "lifecycle.down",
    keys: ["down", "j"],
    scope: "lifecycle",
    description: "Scroll histogram down",
    nav: true,
  },
  { id: "lifecycle.pageUp", keys: ["pgup"], scope: "lifecycle", description: "Page up", nav: true },
  { id: "lifecycle.pageDown", keys: ["pgdn"], scope: "lifecycle", description: "Page down", nav: true },
  // drill-down panels: the users behind a number, then one user's timeline
  { id: "drill.up", keys: ["up", "k"], scope: "drill", description: "Previous user / scroll up", nav: true },
  {
    id: "drill.down",
    keys: ["down", "j"],
    scope: "drill",
    description: "Next user / scroll down",
    nav: true,
  },
  { id: "drill.pageUp", keys: ["pgup"], scope: "drill", description: "Page up", nav: true },
  { id: "drill.pageDown", keys: ["pgdn"], scope: "drill", description: "Page down", nav: true },
  { id: "drill.first", keys: ["home", "g"], scope: "drill", description: "First user / top", nav: true },
  { id: "drill.last", keys: ["end", "G"], scope: "drill", description: "Last user / bottom", nav: true },
  { id: "drill.left", keys: ["left", "h"], scope: "drill", description: "Scroll timeline left", nav: true },
  {
    id: "drill.right",
    keys: ["right", "l"],
    scope: "drill",
    description: "Scroll timeline right",
    nav: true,
  },
  { id: "drill.open", keys: ["enter"], scope: "drill", description: "Open timeline / event" },
  { id: "drill.flip", keys: ["tab"], scope: "drill", description: "Flip to dropped / lost" },
  { id: "drill.search", keys: ["/"], scope: "drill", description: "Search the timeline" },
  { id: "drill.copy", keys: ["y"], scope: "drill", description: "Copy the user id" },
  { id: "drill.cohort", keys: ["C"], scope: "drill", description: "Save all users as a cohort" },
  { id: "drill.back", keys: ["esc"], scope: "drill", description: "Back / close the panel" },
  // pickers, editors and overlays (typing filters the list or edits the text)
  { id: "picker.up", keys: ["up"], scope: "picker", description: "Previous item / scroll up" },
  { id: "picker.down", keys: ["down"], scope: "picker", description: "Next item / scroll down" },
  { id: "picker.pageUp", keys: ["pgup"], scope: "picker", description: "Page up" },
  { id: "picker.pageDown", keys: ["pgdn"], scope: "picker", description: "Page down" },
  { id: "picker.accept", keys: ["enter"], scope: "picker", description: "Choose / apply" },
  { id: "picker.erase", keys: ["backspace"], scope: "picker", description: "Delete a character" },
  { id: "picker.yes", keys: ["y"], scope: "picker", description: "Confirm" },
] as const satisfies readonly Binding[];

export type BindingId = (typeof KEYMAP)[number]["id"];

/** A key name → predicate over Ink's (input, key). Throws on a name it does not know. */
export function keyMatcher(name: string): (input: string, key: Key) => boolean {
  const plain = (k: Key) => !k.ctrl && !k.meta;
  const named: Record<string, (input: string, key: Key) => boolean> = {
    enter: (_i, k) => k.return,
    esc: (_i, k) => k.escape,
    tab: (_i, k) => k.tab && !k.shift,
    "shift+tab": (_i, k) => k.tab && k.shift,
    space: (i, k) => i === " " && !k.ctrl,
    // Ink 6 reports the Backspace key as `delete`.
    backspace: (_i, k) => k.backspace || k.delete,
    up: (_i, k) => k.upArrow && !k.shift,
    down: (_i, k) => k.downArrow && !k.shift,
    left: (_i, k) => k.leftArrow && !k.shift,
    right: (_i, k) => k.rightArrow && !k.shift,
    "shift+up": (_i, k) => k.upArrow && k.shift,
    "shift+down": (_i, k) => k.downArrow && k.shift,
    pgup: (_i, k) => k.pageUp,
    pgdn: (_i, k) => k.pageDown,
    home: (_i, k) => k.home,
    end: (_i, k) => k.end,
  };
  const n = named[name];
  if (n) return n;
  const ctrl = /^ctrl\+([a-z])$/.exec(name);
  if (ctrl) return (i, k) => k.ctrl && i.toLowerCase() === ctrl[1];
  const range = /^(.)-(.)$/u.exec(name);
  if (range) {
    const [, lo, hi] = range as unknown as [string, string, string];
    return (i, k) => plain(k) && [...i].length === 1 && i >= lo && i <= hi;
  }
  if ([...name].length === 1) return (i, k) => plain(k) && i === name;
  throw new Error(`keymap: unknown key name "${name}"`);
}

/** Every concrete key a display name stands for (`1-5` → `1`…`5`); used for conflict checks. */
export function expandKey(name: string): string[] {
  const range = /^(.)-(.)$/u.exec(name);
  if (!range) return [name];
  const out: string[] = [];
  for (let c = range[1]!.codePointAt(0)!; c <= range[2]!.codePointAt(0)!; c++)
    out.push(String.fromCodePoint(c));
  return out;
}

const BY_ID = new Map<string, { binding: Binding; test: (input: string, key: Key) => boolean }>();
for (const b of KEYMAP as readonly Binding[]) {
  const tests = b.keys.map(keyMatcher);
  BY_ID.set(b.id, { binding: b, test: (i, k) => tests.some((t) => t(i, k)) });
}

/** The binding for an id. */
export function binding(id: BindingId): Binding {
  return BY_ID.get(id)!.binding;
}

/** Whether this keypress triggers the binding `id`. */
export function matches(id: BindingId, input: string, key: Key): boolean {
  const entry = BY_ID.get(id);
  if (!entry) throw new Error(`keymap: unknown binding "${id}"`);
  return entry.test(input, key);
}

/**
 * The binding a keypress triggers on a screen: the screen's own bindings first, then the global
 * ones. `undefined` when the key means nothing there.
 */
export function resolve(scope: Scope, input: string, key: Key): Binding | undefined {
  for (const s of scope === "global" ? ["global"] : [scope, "global"]) {
    for (const b of KEYMAP as readonly Binding[]) {
      if (b.scope === s && BY_ID.get(b.id)!.test(input, key)) return b;
    }
  }
  return undefined;
}

/** Bindings of one scope, in table order. */
export function bindingsFor(scope: Scope): Binding[] {
  return (KEYMAP as readonly Binding[]).filter((b) => b.scope === scope);
}

/** Display form of a binding's keys, e.g. `tab/]` — for status-bar hints. */
export function keyLabel(id: BindingId): string {
  return binding(id).keys.join("/");
}

/**
 * The keypress Ink reports for a key name: the command palette sends it through the dispatcher, so a
 * chosen action runs exactly as its key does. Undefined for a range (`1-7`: send one of its keys).
 */
export function keyEvent(name: string): [string, Key] | undefined {
  const k = (over: Partial<Key>, input = ""): [string, Key] => [input, { ...NO_KEY, ...over }];
  const named: Record<string, [string, Key]> = {
    enter: k({ return: true }),
    esc: k({ escape: true }),
    tab: k({ tab: true }),
    "shift+tab": k({ tab: true, shift: true }),
    space: k({}, " "),
    backspace: k({ delete: true }),
    up: k({ upArrow: true }),
    down: k({ downArrow: true }),
    left: k({ leftArrow: true }),
    right: k({ rightArrow: true }),
    "shift+up": k({ upArrow: true, shift: true }),
    "shift+down": k({ downArrow: true, shift: true }),
    pgup: k({ pageUp: true }),
    pgdn: k({ pageDown: true }),
    home: k({ home: true }),
    end: k({ end: true }),
  };
  const n = named[name];
  if (n) return n;
  const ctrl = /^ctrl\+([a-z])$/.exec(name);
  if (ctrl) return k({ ctrl: true }, ctrl[1]);
  if ([...name].length === 1) return k(/^[A-Z]$/.test(name) ? { shift: true } : {}, name);
  return undefined;
}

/** An Ink `Key` with every flag false; spread it in tests and synthetic dispatch. */
export const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};
