/**
 * Analysis pickers: events (type to filter, optional step filter), filters (`KEY OP VALUE`, with the
 * event's property keys as hints), breakdown keys, the funnel window and whole numbers. Property
 * keys come from the engine's `props` analysis of the event, never from SQL written here.
 */
import { useMemo, useState } from "react";
import { formatFilter, parseDuration, parseFilter } from "../../queries/parse.js";
import type {
  CatalogResult,
  DateRange,
  EventRef,
  Filter,
  PropsResult,
  PropsSpec,
} from "../../queries/spec.js";
import { formatDuration, formatNumber, formatPercent } from "../../render/format.js";
import { useQuery } from "../hooks/useQuery.js";
import { ListPicker, type PickItem, TextPrompt } from "./widgets.js";

/** Catalog events as picker items (most frequent first). */
export function eventItems(catalog: CatalogResult | undefined, allowAny: boolean): PickItem<string>[] {
  const items: PickItem<string>[] = (catalog?.events ?? []).map((e) => ({
    label: e.event_type,
    value: e.event_type,
    hint: `${formatNumber(e.events)} events · ${formatNumber(e.users)} users`,
  }));
  if (allowAny) items.unshift({ label: "* (any event)", value: "*", hint: "every event counts" });
  return items;
}

/** The props spec of an event in a range (topValues kept small: keys are what pickers need). */
export function propsSpec(event: string | undefined, range: DateRange | null): PropsSpec | null {
  if (!event || event === "*" || !range) return null;
  return { kind: "props", event, range, topValues: 3 };
}

/**
 * The props spec of several events together (a funnel's steps) with the count of numbers per key: the
 * keys the hold and value pickers offer. Null without events or a range.
 */
export function stepPropsSpec(events: string[], range: DateRange | null): PropsSpec | null {
  const types = [...new Set(events)].sort();
  if (!types.length || !range) return null;
  return { kind: "props", event: types[0]!, events: types, range, topValues: 3, numbers: true };
}

/** One-line summary of an event's property keys for hints: `platform (string) · revenue (number)`. */
export function keyHints(props: PropsResult | undefined, max = 8): string {
  if (!props) return "";
  const keys = props.props.slice(0, max).map((p) => `${p.key} (${p.type})`);
  return keys.join(" · ") + (props.props.length > max ? ` · +${props.props.length - max}` : "");
}

export interface EventPickerProps {
  title: string;
  catalog: CatalogResult | undefined;
  range: DateRange | null;
  width: number;
  height: number;
  allowAny?: boolean;
  /** After the event, ask for an optional filter on it. */
  withFilter?: boolean;
  onPick: (ref: EventRef) => void;
  onCancel: () => void;
}

/** Picks an event (type to filter); then, with `withFilter`, an optional `KEY OP VALUE` on it. */
export function EventPicker(props: EventPickerProps) {
  const [event, setEvent] = useState<string | null>(null);
  const items = useMemo(() => eventItems(props.catalog, !!props.allowAny), [props.catalog, props.allowAny]);
  if (event !== null) {
    return (
      <FilterPrompt
        title={`Filter on ${event} (optional: enter to skip)`}
        event={event}
        range={props.range}
        width={props.width}
        optional
        onSubmit={(f) => props.onPick({ event, filters: f ? [f] : [] })}
        onCancel={() => setEvent(null)}
      />
    );
  }
  return (
    <ListPicker
      title={props.title}
      items={items}
      width={props.width}
      height={props.height}
      empty={props.catalog ? "no events in this range" : "loading events…"}
      footer={`type to filter · enter pick${props.withFilter ? " (then an optional filter)" : ""} · esc cancel`}
      onPick={(item) => {
        if (props.withFilter && item.value !== "*") setEvent(item.value);
        else props.onPick({ event: item.value, filters: [] });
      }}
      onCancel={props.onCancel}
    />
  );
}

export interface FilterPromptProps {
  title: string;
  /** The event whose keys are suggested (`*` or undefined: none). */
  event?: string;
  range: DateRange | null;
  width: number;
  /** Empty text submits `null`. */
  optional?: boolean;
  onSubmit: (f: Filter | null) => void;
  onCancel: () => void;
}

/**
 * A screen's `f`: the filter prompt whose filter joins the screen's filters (`onAdd`), then closes
 * (`onDone`, also after esc). The same glue on every analysis screen.
 */
export function AddFilterPrompt(props: {
  title: string;
  event?: string;
  range: DateRange | null;
  width: number;
  onAdd: (f: Filter) => void;
  onDone: () => void;
}) {
  return (
    <FilterPrompt
      title={props.title}
      event={props.event}
      range={props.range}
      width={props.width}
      onSubmit={(f) => {
        if (f) props.onAdd(f);
        props.onDone();
      }}
      onCancel={props.onDone}
    />
  );
}

/** A `KEY OP VALUE` prompt validated by the engine's parser, with the event's keys as hints. */
export function FilterPrompt(props: FilterPromptProps) {
  const q = useQuery(propsSpec(props.event, props.range));
  const hints = keyHints(q.data);
  const help = [
    "KEY OP VALUE, OP: = != > >= < <= ~ in set !set (e.g. platform=mac, revenue>=10, country in US,DE)",
    q.status === "running" && !q.data ? "keys: loading…" : hints ? `keys: ${hints}` : "",
  ].filter(Boolean);
  return (
    <TextPrompt
      title={props.title}
      width={props.width}
      help={help}
      validate={(t) => {
        if (!t.trim() && props.optional) return null;
        try {
          parseFilter(t);
          return null;
        } catch (e) {
          return (e as Error).message;
        }
      }}
      onSubmit={(t) => props.onSubmit(t.trim() ? parseFilter(t) : null)}
      onCancel={props.onCancel}
    />
  );
}

/** Picks a property key of `event` to break down by; "(none)" clears it. */
/** Picks one of an event's property keys (or `(none)`): breakdowns, held keys, value keys. */
export function BreakdownPicker(props: {
  event?: string;
  /** The keys of these events together instead of `event`'s (a funnel's hold and value). */
  events?: string[];
  /** Only keys with a number among their values (`--value` has something to sum). */
  numeric?: boolean;
  range: DateRange | null;
  current?: string;
  width: number;
  height: number;
  onPick: (key: string | undefined) => void;
  onCancel: () => void;
  /** Default: `Break down EVENT by`. */
  title?: string;
  /** What `(none)` means here. Default: no breakdown. */
  noneHint?: string;
}) {
  const q = useQuery(
    props.events ? stepPropsSpec(props.events, props.range) : propsSpec(props.event, props.range),
  );
  const noneHint = props.noneHint ?? "no breakdown";
  const numeric = !!props.numeric;
  const items = useMemo<PickItem<string | null>[]>(() => {
    const list: PickItem<string | null>[] = [{ label: "(none)", value: null, hint: noneHint }];
    for (const p of q.data?.props ?? []) {
      if (numeric && !(p.numbers && p.numbers > 0)) continue;
      const head = numeric ? `number in ${formatNumber(p.numbers ?? 0)} events` : p.type;
      list.push({
        label: p.key,
        value: p.key,
        hint: `${head} · ${formatPercent(p.presence, 0)} · ${p.top.map((t) => t.value).join(", ")}`,
      });
    }
    return list;
  }, [q.data, noneHint, numeric]);
  const idx = props.current ? items.findIndex((i) => i.value === props.current) : 0;
  return (
    <ListPicker
      title={props.title ?? `Break down ${props.event ?? ""} by`}
      items={items}
      width={props.width}
      height={props.height}
      initialIndex={Math.max(0, idx)}
      empty={q.status === "error" ? `error: ${q.error?.message}` : "loading keys…"}
      footer={
        q.status === "running" && !q.data
          ? `loading the ${props.events ? "steps'" : "event's"} keys…`
          : q.status === "error"
            ? `could not load keys: ${q.error?.message ?? ""}`
            : "type to filter · enter pick · esc cancel"
      }
      custom={(text) => ({ label: text, value: text, hint: "typed key" })}
      onPick={(item) => props.onPick(item.value ?? undefined)}
      onCancel={props.onCancel}
    />
  );
}

const WINDOWS = [
  { label: "1 hour", seconds: 3600 },
  { label: "1 day", seconds: 86_400 },
  { label: "7 days", seconds: 7 * 86_400 },
  { label: "14 days", seconds: 14 * 86_400 },
  { label: "30 days", seconds: 30 * 86_400 },
];

/** The funnel's conversion window: presets, or typed (`90m`, `3d`). */
export function WindowEditor(props: {
  /** Default "Conversion window" (the funnel's). */
  title?: string;
  current: number;
  width: number;
  height: number;
  onPick: (seconds: number) => void;
  onCancel: () => void;
}) {
  const [typing, setTyping] = useState(false);
  if (typing) {
    return (
      <TextPrompt
        title={props.title ?? "Conversion window"}
        initial=""
        width={props.width}
        help={["e.g. 30m, 1h, 1.5h, 3d, 2w", `now: ${formatDuration(props.current)}`]}
        validate={(t) => {
          try {
            parseDuration(t);
            return null;
          } catch (e) {
            return (e as Error).message;
          }
        }}
        onSubmit={(t) => props.onPick(parseDuration(t))}
        onCancel={() => setTyping(false)}
      />
    );
  }
  const items: PickItem<number>[] = [
    ...WINDOWS.map((w) => ({ label: w.label, value: w.seconds })),
    { label: "Custom…", value: -1, hint: "type a duration" },
  ];
  const idx = items.findIndex((i) => i.value === props.current);
  return (
    <ListPicker
      title={`${props.title ?? "Conversion window"} (now ${formatDuration(props.current)})`}
      items={items}
      width={props.width}
      height={props.height}
      filterable={false}
      initialIndex={idx >= 0 ? idx : items.length - 1}
      footer="enter pick · esc cancel"
      onPick={(item) => (item.value < 0 ? setTyping(true) : props.onPick(item.value))}
      onCancel={props.onCancel}
    />
  );
}

/** A whole number in [min, max]. */
export function NumberPrompt(props: {
  title: string;
  current: number;
  min: number;
  max: number;
  width: number;
  onSubmit: (n: number) => void;
  onCancel: () => void;
}) {
  const check = (t: string) => {
    const n = Number(t.trim());
    return Number.isInteger(n) && n >= props.min && n <= props.max
      ? null
      : `a whole number from ${props.min} to ${props.max}`;
  };
  return (
    <TextPrompt
      title={props.title}
      initial={String(props.current)}
      selectInitial
      width={props.width}
      validate={check}
      onSubmit={(t) => props.onSubmit(Number(t.trim()))}
      onCancel={props.onCancel}
    />
  );
}

/** `platform=mac, revenue>=10` or `–`. */
export function filtersLabel(filters: Filter[]): string {
  if (!filters.length) return "–";
  return filters.map(formatFilter).join(", ");
}
