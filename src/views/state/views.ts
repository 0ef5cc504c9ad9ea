/**
 * Saved views (issue #28): a screen kept under a name — its tab, the tab's settings (events, steps,
 * filters, modes, interval, compare…) and the date range, a `last …` range kept relative — and the
 * screen the TUI was left on, to reopen there. One small readable JSON file per user in the XDG
 * config folder (`$XDG_CONFIG_HOME/evx/views.json`, default `~/.config/evx/views.json`), not in the
 * cache, so views survive a cache rebuild. Writes go through a temporary file and a rename, so a
 * crash never leaves half a file. No React here (`evx view` reads it too).
 */
import { configFilePath, readConfigJson, writeConfigJson } from "./configfile.js";
import type { TabId } from "./state.js";

/** The range of a view: a `last …` duration (seconds), fixed bounds, or absent for all the data. */
export type ViewRange = { last: number } | { from: string; to: string };

export interface SavedView {
  tab: TabId;
  range?: ViewRange;
  /** Each tab's settings, as the screens keep them (cursor and scroll positions left out). */
  models: Partial<Record<TabId, Record<string, unknown>>>;
  /** The sample of users the analyses read (`%`; docs/semantics.md, "Sampling"); absent: all users. */
  sample?: number;
}

export interface ViewsFile {
  views: Record<string, SavedView>;
  /** Where the TUI was left on each cache (or ClickHouse table), every tab's settings, to reopen there. */
  last?: Record<string, SavedView>;
}

/** Fields of the screens' models that are positions on screen, not settings: never saved. */
const POSITIONS = new Set([
  "selected",
  "cursor",
  "tableTop",
  "scroll",
  "folded",
  "unfolded",
  "top",
  "row",
  "col",
  "left",
  "bdFrom",
  "bdTop",
]);
/** `top` is a setting in Paths (children per node), a scroll position in Retention. */
const KEEP: Partial<Record<TabId, string[]>> = { paths: ["top"] };

/** A model without its on-screen positions. */
export function settingsOf(tab: TabId, model: object): Record<string, unknown> {
  const keep = new Set(KEEP[tab] ?? []);
  return Object.fromEntries(
    Object.entries(model).filter(([k, v]) => v !== undefined && (keep.has(k) || !POSITIONS.has(k))),
  );
}

export function viewsPath(env: NodeJS.ProcessEnv = process.env): string {
  return configFilePath("views.json", env);
}

/** The file's views; an absent file is none. A file that does not parse is an error naming it. */
export function readViews(path = viewsPath()): ViewsFile {
  return readConfigJson(
    path,
    "saved views",
    () => ({ views: {} }),
    (json) => {
      const v = json as Partial<ViewsFile>;
      if (!v || typeof v !== "object" || (v.views !== undefined && typeof v.views !== "object"))
        throw new Error("not a views file");
      return { views: v.views ?? {}, ...(v.last ? { last: v.last } : {}) };
    },
  );
}

/** Writes the whole file: private to the user (0600), through a temporary file and a rename. */
export function writeViews(file: ViewsFile, path = viewsPath()): void {
  writeConfigJson(path, file);
}

/** A view name: 1–64 printable characters, no leading or trailing space. */
export function checkViewName(name: string): string | null {
  if (!name.trim()) return "give the view a name";
  if (name !== name.trim()) return "no spaces around the name";
  if ([...name].length > 64) return "at most 64 characters";
  if (/[\x00-\x1f\x7f]/.test(name)) return "no control characters";
  return null;
}

export function saveView(name: string, view: SavedView, path = viewsPath()): void {
  const err = checkViewName(name);
  if (err) throw new Error(`bad view name ${JSON.stringify(name)}: ${err}`);
  const f = readViews(path);
  f.views[name] = view;
  writeViews(f, path);
}

export function removeView(name: string, path = viewsPath()): boolean {
  const f = readViews(path);
  if (!(name in f.views)) return false;
  delete f.views[name];
  writeViews(f, path);
  return true;
}

export function saveLast(where: string, view: SavedView, path = viewsPath()): void {
  const f = readViews(path);
  f.last = { ...f.last, [where]: view };
  writeViews(f, path);
}

/** One line per view for lists: `NAME  trends · last 6h`. */
export function viewSummary(v: SavedView): string {
  const r = v.range;
  const range = !r ? "all data" : "last" in r ? `last ${durationText(r.last)}` : `${r.from} → ${r.to}`;
  const m = v.models[v.tab] ?? {};
  const what = (m.events ?? m.steps) as { event: string }[] | undefined;
  const anchor = (m.start ?? m.anchor ?? m.event) as { event: string } | undefined;
  const names = what?.map((e) => e.event).join(", ") ?? anchor?.event;
  return `${v.tab}${names ? ` · ${names}` : ""} · ${range}`;
}

function durationText(s: number): string {
  for (const [u, n] of [
    ["w", 604_800],
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
  ] as const)
    if (s % n === 0) return `${s / n}${u}`;
  return `${s}s`;
}
