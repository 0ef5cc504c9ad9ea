/**
 * Global overlays: help (`?`), the SQL behind the current result (`s`), export paths (`e`) and the
 * date-range editor (`d`). Each takes the keys while open (a modal layer above the screens).
 */

import { Box } from "ink";
import { useState } from "react";
import { inlineSql } from "../../queries/executor.js";
import { parseDate, parseRangeBound } from "../../queries/parse.js";
import { frameOf, lastRange } from "../../queries/time.js";
import { timeText } from "../../render/format.js";
import { cleanText, wrapText } from "../../render/sanitize.js";
import { PRIORITY, useKeys } from "../hooks/input.js";
import { matches } from "../keymap.js";
import { HelpOverlay, helpLayout } from "./HelpOverlay.js";
import { clamp, Line, ListPicker, type PickItem, TextPrompt } from "./widgets.js";

/** The help table, scrollable with up/down/pgup/pgdn; `?` or esc closes. */
export function HelpPanel({
  width,
  height,
  settings,
  onClose,
}: {
  width: number;
  height: number;
  /** The current screen's whole settings line, when the screen shows only part of it. */
  settings?: string;
  onClose: () => void;
}) {
  const [scroll, setScroll] = useState(0);
  // Above the keys, wrapped (at most half the panel).
  const shown = settings
    ? wrapText(`Settings: ${cleanText(settings)}`, width).slice(0, Math.floor(height / 2))
    : [];
  const keysH = Math.max(1, height - shown.length);
  const { maxScroll, bodyHeight } = helpLayout(width, keysH);
  useKeys(
    (input, key) => {
      if (key.escape || matches("help", input, key) || matches("quit", input, key)) onClose();
      else if (matches("picker.up", input, key) || input === "k")
        setScroll((s) => clamp(s - 1, 0, maxScroll));
      else if (matches("picker.down", input, key) || input === "j")
        setScroll((s) => clamp(s + 1, 0, maxScroll));
      else if (matches("picker.pageUp", input, key)) setScroll((s) => clamp(s - bodyHeight, 0, maxScroll));
      else if (matches("picker.pageDown", input, key)) setScroll((s) => clamp(s + bodyHeight, 0, maxScroll));
      return true;
    },
    { priority: PRIORITY.overlay, modal: true },
  );
  if (!shown.length) return <HelpOverlay width={width} height={height} scroll={scroll} />;
  return (
    <Box flexDirection="column" width={width} height={height}>
      {shown.map((l, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: wrapped lines are positional
        <Line key={i} text={l} width={width} color="cyan" />
      ))}
      <HelpOverlay width={width} height={keysH} scroll={scroll} />
    </Box>
  );
}

/** SQL with `$n` replaced by the literal of parameter n (the one rule, shared with `--sql`). */
export const inlineParams = (sql: string, params: unknown[] = []): string => inlineSql({ sql, params });

/** Scrollable text panel (SQL, export result, a rejected line). */
export function TextPanel(props: {
  title: string;
  text: string;
  width: number;
  height: number;
  onClose: () => void;
  closeKeys?: (input: string, key: import("ink").Key) => boolean;
  footer?: string;
}) {
  const { width, height } = props;
  const [scroll, setScroll] = useState(0);
  const inner = Math.max(1, width - 4);
  // Wrap each line, keeping its indentation (SQL reads better that way).
  const lines = props.text.split("\n").flatMap((raw) => {
    const l = cleanText(raw);
    if (l.trim() === "") return [""];
    const indent = (/^ */.exec(l)?.[0] ?? "").slice(0, Math.floor(inner / 2));
    return wrapText(l.trim(), inner - indent.length).map((w) => indent + w);
  });
  const bodyH = Math.max(1, height - 4);
  const max = Math.max(0, lines.length - bodyH);
  useKeys(
    (input, key) => {
      if (key.escape || props.closeKeys?.(input, key) || matches("quit", input, key)) props.onClose();
      else if (matches("picker.up", input, key) || input === "k") setScroll((s) => clamp(s - 1, 0, max));
      else if (matches("picker.down", input, key) || input === "j") setScroll((s) => clamp(s + 1, 0, max));
      else if (matches("picker.pageUp", input, key)) setScroll((s) => clamp(s - bodyH, 0, max));
      else if (matches("picker.pageDown", input, key)) setScroll((s) => clamp(s + bodyH, 0, max));
      return true;
    },
    { priority: PRIORITY.overlay, modal: true },
  );
  const top = clamp(scroll, 0, max);
  const shown = lines.slice(top, top + bodyH);
  const foot =
    props.footer ??
    `esc close${max > 0 ? ` · ↑↓ scroll · ${top + 1}-${top + shown.length} of ${lines.length}` : ""}`;
  return (
    <Box
      flexDirection="column"
      borderStyle="round"
      borderColor="cyan"
      width={width}
      height={Math.min(height, shown.length + 3 + 1)}
      paddingX={1}
    >
      <Line text={props.title} width={inner} bold />
      {shown.map((l, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a window over fixed lines
        <Line key={top + i} text={l} width={inner} />
      ))}
      <Line text={foot} width={inner} dim />
    </Box>
  );
}

function addDays(date: string, n: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export interface RangeChoice {
  from: string;
  to: string;
  /**
   * A `last …` preset, in seconds: `from`/`to` are the instants it resolved to, and it is resolved
   * again from the newest event whenever the data changes (so it slides with live mode).
   */
  last?: number;
}

/** The `last …` presets of `d`, as `--last` resolves them (ending at the minute after the newest event). */
export const LAST_PRESETS: readonly { label: string; short: string; seconds: number }[] = [
  { label: "Last 15 minutes", short: "15m", seconds: 15 * 60 },
  { label: "Last hour", short: "1h", seconds: 3600 },
  { label: "Last 6 hours", short: "6h", seconds: 6 * 3600 },
  { label: "Last 24 hours", short: "24h", seconds: 24 * 3600 },
];

/** `2023-06-14 22:47 → 23:47`: an instant range in `tz`, the end's date left out when it is the same. */
export function instantsText(from: string, to: string, tz: string): string {
  const a = timeText(from, tz);
  const b = timeText(to, tz);
  return `${a} → ${a.slice(0, 10) === b.slice(0, 10) ? b.slice(11) : b}`;
}

/**
 * A range as the screens show it: dates and local times as typed (`2023-06-01 → 2023-06-02 14:30`),
 * instants (a `last …` range) as local times in the range's zone.
 */
export function rangeText(r: { from: string; to: string; tz: string }): string {
  if (r.from.endsWith("Z") && r.to.endsWith("Z")) return instantsText(r.from, r.to, r.tz);
  return `${r.from.replace("T", " ")} → ${r.to.replace("T", " ")}`;
}

/** The status bar's text for a `last …` range: `last 1h · 2023-06-14 22:47 → 23:47`. */
export function lastLabel(r: { from: string; to: string; last?: number }, tz: string): string | undefined {
  if (r.last === undefined) return undefined;
  const p = LAST_PRESETS.find((x) => x.seconds === r.last);
  return `last ${p?.short ?? `${r.last}s`} · ${instantsText(r.from, r.to, tz)}`;
}

/** The `last …` presets resolved at the newest event (`latestUs`, epoch µs). */
export function lastPresets(latestUs: number, tz: string): PickItem<RangeChoice | "custom">[] {
  return LAST_PRESETS.map((p) => {
    const r = lastRange(latestUs, p.seconds, tz);
    return {
      label: p.label,
      value: { from: r.from, to: r.to, last: p.seconds },
      hint: `${instantsText(r.from, r.to, tz)} (follows new data)`,
    };
  });
}

/** Presets relative to the last cached date, plus typed dates. */
export function rangePresets(bounds: RangeChoice): PickItem<RangeChoice | "custom">[] {
  const items: PickItem<RangeChoice | "custom">[] = [];
  for (const days of [7, 14, 30]) {
    let from = addDays(bounds.to, -(days - 1));
    if (from < bounds.from) from = bounds.from;
    items.push({
      label: `Last ${days} days`,
      value: { from, to: bounds.to },
      hint: `${from} → ${bounds.to}`,
    });
  }
  items.push({ label: "All data", value: { ...bounds }, hint: `${bounds.from} → ${bounds.to}` });
  items.push({ label: "Custom…", value: "custom", hint: "type FROM..TO" });
  return items;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** One typed bound: a date `YYYY-MM-DD` or a local date-time `YYYY-MM-DDTHH:MM[:SS]`. */
function parseBound(text: string): string {
  if (!/^\d{4}-\d{2}-\d{2}T/i.test(text)) return parseDate(text);
  return parseRangeBound(text.replace(/t/, "T"), "time");
}

/**
 * Parses `FROM..TO`, `FROM TO` or one date. Each bound is a date (as `to`, inclusive) or a local
 * date-time `YYYY-MM-DDTHH:MM[:SS]` in `tz` (as `to`, exclusive), as on the command line. Throws a
 * one-line error; an empty or reversed range is refused.
 */
export function parseRangeText(text: string, tz = "UTC"): RangeChoice {
  const parts = text
    .trim()
    .split(/\s*(?:\.\.|→|\s+to\s+|\s+)\s*/)
    .filter(Boolean);
  if (parts.length === 0 || parts.length > 2)
    throw new Error("type two dates or times: 2023-06-01..2023-06-14 or 2023-06-01T09:00..2023-06-01T12:00");
  const from = parseBound(parts[0]!);
  const to = parseBound(parts[1] ?? parts[0]!);
  if (parts.length === 1 && !DATE_RE.test(from))
    throw new Error(`type where the range ends too: ${from}..${from.slice(0, 10)}T23:59`);
  const f = frameOf({ from, to, tz });
  if (f.hi < f.lo || (DATE_RE.test(from) && DATE_RE.test(to) && from > to))
    throw new Error(`${from} is after ${to}`);
  if (f.hi === f.lo) throw new Error(`${from}..${to} is empty (a time as the end is exclusive)`);
  return { from, to };
}

export function DateRangeEditor(props: {
  width: number;
  height: number;
  /** Zone of typed times (the TUI's `--tz`). */
  tz: string;
  bounds: RangeChoice | null;
  current: RangeChoice | null;
  /** The newest event (epoch µs): offers the `last …` presets. */
  latestUs?: number | null;
  onApply: (r: RangeChoice) => void;
  onCancel: () => void;
}) {
  const [custom, setCustom] = useState(!props.bounds);
  if (custom || !props.bounds) {
    const cur = props.current;
    return (
      <TextPrompt
        title="Date range: FROM..TO, each YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        initial={cur && cur.last === undefined ? `${cur.from}..${cur.to}` : ""}
        width={props.width}
        help={[
          ...(props.bounds ? [`cached: ${props.bounds.from} → ${props.bounds.to}`] : []),
          `dates are whole days (inclusive); times are local in ${props.tz}, the end time exclusive`,
        ]}
        validate={(t) => {
          try {
            parseRangeText(t, props.tz);
            return null;
          } catch (e) {
            return (e as Error).message;
          }
        }}
        onSubmit={(t) => props.onApply(parseRangeText(t, props.tz))}
        onCancel={props.onCancel}
      />
    );
  }
  const lasts =
    props.latestUs === null || props.latestUs === undefined ? [] : lastPresets(props.latestUs, props.tz);
  const items = [...lasts, ...rangePresets(props.bounds)];
  const cur = props.current;
  const idx = cur
    ? items.findIndex((i) =>
        i.value === "custom"
          ? false
          : cur.last !== undefined
            ? i.value.last === cur.last
            : i.value.last === undefined && i.value.from === cur.from && i.value.to === cur.to,
      )
    : -1;
  return (
    <ListPicker
      title="Date range"
      items={items}
      width={props.width}
      height={props.height}
      filterable={false}
      initialIndex={idx >= 0 ? idx : lasts.length + 3}
      footer="enter apply · esc cancel"
      onPick={(item) => (item.value === "custom" ? setCustom(true) : props.onApply(item.value))}
      onCancel={props.onCancel}
    />
  );
}
