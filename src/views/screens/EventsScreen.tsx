/**
 * Tab 1: the event catalog — event, events, users, last seen and a 14-day sparkline — filtered with
 * `/`; Enter opens the event in Trends. Narrow terminals drop the sparkline, then "last seen".
 */

import { Box } from "ink";
import type { Dispatch, SetStateAction } from "react";
import { memo, useEffect, useLayoutEffect, useMemo, useState } from "react";
import {
  type CatalogRow,
  type DateRange,
  INTERVALS,
  type Interval,
  type TrendSpec,
} from "../../queries/spec.js";
import { sparkline } from "../../render/charts.js";
import { formatCompact, formatNumber } from "../../render/format.js";
import { cleanText, displayWidth, padEnd, padStart, sliceColumns } from "../../render/sanitize.js";
import { PRIORITY, useKeys } from "../hooks/input.js";
import { useActions } from "../hooks/useActions.js";
import { useQuery } from "../hooks/useQuery.js";
import { matches } from "../keymap.js";
import { pointsOf } from "../state/intervals.js";
import { type EventsModel, useAppEnv, useReportSelection } from "../state/state.js";
import { fuzzyFilter } from "../widgets/fuzzy.js";
import { rangeText } from "../widgets/overlays.js";
import { clamp, Line, scrollTop, typed } from "../widgets/widgets.js";

const SPARK_DAYS = 14;
const SPARK_MAX_EVENTS = 60;

export interface EventsScreenProps {
  width: number;
  height: number;
  model: EventsModel;
  setModel: Dispatch<SetStateAction<EventsModel>>;
}

interface Layout {
  name: number;
  events: number;
  users: number;
  last: number;
  spark: number;
}

/** Column widths for a terminal width; 0 hides a column. */
export function catalogLayout(width: number): Layout {
  const events = 11;
  const users = 10;
  let last = 17;
  let spark = SPARK_DAYS;
  const fixed = () => events + users + (last ? last + 1 : 0) + (spark ? spark + 2 : 0) + 2;
  if (width < 80) spark = 0;
  if (width - fixed() < 16) last = 0;
  const name = Math.max(6, width - fixed() - 2);
  return { name, events, users, last, spark };
}

function lastSeen(iso: string): string {
  return iso.length >= 16 ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : iso;
}

function addDays(date: string, n: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Whether both bounds of the range are dates (not date-times). */
function dateRange(range: DateRange): boolean {
  return DATE_RE.test(range.from) && DATE_RE.test(range.to);
}

/**
 * The sparklines' range and interval: over a range of dates, the days of its last 14; over a range
 * with times (an incident's few hours), the whole range in the finest interval with at most
 * 4 × 14 buckets.
 */
function sparkFrame(range: DateRange): { range: DateRange; interval: Interval } {
  if (dateRange(range)) {
    let from = addDays(range.to, -(SPARK_DAYS - 1));
    if (from < range.from) from = range.from;
    return { range: { from, to: range.to, tz: range.tz }, interval: "day" };
  }
  const interval =
    INTERVALS.find((iv) => {
      const n = pointsOf(range, iv);
      return n !== null && n <= 4 * SPARK_DAYS;
    }) ?? "month";
  return { range, interval };
}

/** The sparkline column's title. */
export function sparkTitle(range: DateRange | null): string {
  return !range || dateRange(range) ? `Last ${SPARK_DAYS} days` : `Range, ${sparkFrame(range).interval}`;
}

/** The sparkline query: events of the listed events over the last 14 days of the range (`sparkFrame`). */
export function sparkSpec(names: string[], range: DateRange | null): TrendSpec | null {
  if (!range || names.length === 0) return null;
  const frame = sparkFrame(range);
  return {
    kind: "trend",
    events: names.slice(0, SPARK_MAX_EVENTS).map((event) => ({ event, filters: [] })),
    measure: { kind: "events" },
    interval: frame.interval,
    range: frame.range,
    filters: [],
    limit: 10,
  };
}

const Row = memo(function Row({ text, selected, width }: { text: string; selected: boolean; width: number }) {
  return <Line text={text} width={width} inverse={selected} />;
});

export function EventsScreen({ width, height, model, setModel }: EventsScreenProps) {
  const env = useAppEnv();
  const { catalog, range } = env;
  const [editing, setEditing] = useState(false);
  const [top, setTop] = useState(0);
  /** Columns after the event name scrolled off to the left (←/→ when the table is wider than the screen). */
  const [left, setLeft] = useState(0);
  // Every column, the name as wide as the width allows: narrower than the table, the columns after the
  // name scroll (the name stays).
  const layout = useMemo(() => ({ ...catalogLayout(width), last: 17, spark: SPARK_DAYS }), [width]);
  const tableW = layout.name + 1 + layout.events + 1 + layout.users + 1 + layout.last + 1 + layout.spark;
  const frozen = layout.name + 1;
  const leftMax = Math.max(0, tableW - width);
  const shift = clamp(left, 0, leftMax);
  const view = (l: string) =>
    leftMax === 0
      ? l
      : shift > 0
        ? `${sliceColumns(l, 0, frozen)}‹${sliceColumns(l, frozen + shift + 1, width - frozen - 1)}`
        : sliceColumns(l, 0, width);

  const all = catalog.data?.events;
  const rows = useMemo<CatalogRow[]>(() => {
    // Fuzzy, best match first (as the pickers).
    const list = (all ?? []).map((e) => ({ label: e.event_type, row: e }));
    return fuzzyFilter(list, model.filter).map((m) => m.item.row);
  }, [all, model.filter]);

  const names = useMemo(() => (all ?? []).map((e) => e.event_type), [all]);
  const spark = useQuery(catalog.fresh ? sparkSpec(names, range) : null);
  const sparks = useMemo(() => {
    const m = new Map<string, number[]>();
    // No breakdown: one series per listed event, in order.
    const asked = spark.spec?.kind === "trend" ? spark.spec.events : [];
    spark.data?.series.forEach((s, i) => {
      const name = asked[i]?.event;
      if (name !== undefined)
        m.set(
          name,
          s.points.map((p) => p.value),
        );
    });
    return m;
  }, [spark.data, spark.spec]);

  // A layout effect: `s`/`e` pressed right after the frame shows the result must see it.
  useLayoutEffect(() => {
    env.report(
      "events",
      catalog.data
        ? {
            title: "Events",
            spec: catalog.spec,
            result: catalog.data,
            sql: catalog.sql,
            params: catalog.params,
            coverage: catalog.coverage,
          }
        : null,
    );
  }, [catalog.data, catalog.spec, catalog.sql, catalog.params, catalog.coverage, env.report]);

  const listH = Math.max(1, height - 3);
  const cursor = clamp(model.cursor, 0, Math.max(0, rows.length - 1));
  const first = scrollTop(top, cursor, listH, rows.length);
  useEffect(() => {
    if (first !== top) setTop(first);
  }, [first, top]);

  const move = (to: number) =>
    setModel((m) => ({ ...m, cursor: clamp(to, 0, Math.max(0, rows.length - 1)) }));

  // Filter editing takes every key (typing `q` types a q).
  useKeys(
    (input, key) => {
      if (key.escape) {
        setModel((m) => ({ ...m, filter: "", cursor: 0 }));
        setEditing(false);
      } else if (key.return) setEditing(false);
      else if (matches("picker.up", input, key)) move(cursor - 1);
      else if (matches("picker.down", input, key)) move(cursor + 1);
      else if (matches("picker.erase", input, key))
        setModel((m) => ({ ...m, filter: [...m.filter].slice(0, -1).join(""), cursor: 0 }));
      else {
        const t = typed(input, key);
        if (t) setModel((m) => ({ ...m, filter: m.filter + t, cursor: 0 }));
      }
      return true;
    },
    { priority: PRIORITY.prompt, modal: true, isActive: editing },
  );

  useKeys(
    (input, key) => {
      if (matches("events.filter", input, key)) setEditing(true);
      else if (matches("events.up", input, key)) move(cursor - 1);
      else if (matches("events.down", input, key)) move(cursor + 1);
      else if (matches("events.pageUp", input, key)) move(cursor - listH);
      else if (matches("events.pageDown", input, key)) move(cursor + listH);
      else if (matches("events.left", input, key) || matches("events.right", input, key)) {
        if (!leftMax) return false;
        const d = matches("events.left", input, key) ? -1 : 1;
        setLeft(clamp(shift + d * 11, 0, leftMax));
      } else if (matches("events.first", input, key)) move(0);
      else if (matches("events.last", input, key)) move(rows.length - 1);
      else if (matches("events.open", input, key)) {
        const row = rows[cursor];
        if (row) env.openInTrends({ event: row.event_type, filters: [] });
      } else if (key.escape && model.filter) setModel((m) => ({ ...m, filter: "", cursor: 0 }));
      else return false;
      return true;
    },
    { priority: PRIORITY.screen },
  );
  // For the command palette: what these keys would do nothing for now.
  useActions("events", [!rows[cursor] && "events.open"], !editing);
  // `z`: the selected event whole (a long name is cut in the table).
  const sel = rows[cursor];
  useReportSelection(
    "events",
    sel
      ? cleanText(
          `${sel.event_type}\n${formatNumber(sel.events)} events · ${formatNumber(sel.users)} users · last seen ${lastSeen(sel.last_seen)}`,
        )
      : "",
  );

  const header = useMemo(() => {
    const parts = [
      padEnd("Event", layout.name),
      padStart("Events", layout.events),
      padStart("Users", layout.users),
    ];
    if (layout.last) parts.push(padEnd("Last seen", layout.last));
    if (layout.spark) parts.push(padEnd(sparkTitle(range), layout.spark));
    return parts.join(" ");
  }, [layout, range]);

  const lines = useMemo(
    () =>
      rows.map((r) => {
        const narrow = (n: number, w: number) => {
          const full = formatNumber(n);
          return displayWidth(full) <= w ? full : formatCompact(n);
        };
        const parts = [
          padEnd(cleanText(r.event_type), layout.name),
          padStart(narrow(r.events, layout.events), layout.events),
          padStart(narrow(r.users, layout.users), layout.users),
        ];
        if (layout.last) parts.push(padEnd(lastSeen(r.last_seen), layout.last));
        if (layout.spark) {
          const vals = sparks.get(r.event_type);
          parts.push(vals ? sparkline(vals, layout.spark, { ascii: env.ascii }) : "");
        }
        return parts.join(" ");
      }),
    [rows, layout, sparks, env.ascii],
  );

  let title: string;
  let titleColor: string | undefined;
  if (editing) {
    title = `/${model.filter}▏  (enter keep · esc clear)`;
    titleColor = "cyan";
  } else if (catalog.status === "error") {
    title = `error: ${catalog.error?.message ?? "query failed"}`;
    titleColor = "red";
  } else if (catalog.status === "cancelled" && !catalog.data) {
    title = "cancelled — ctrl+r runs it again";
    titleColor = "yellow";
  } else if (env.empty) {
    title =
      env.session?.emptyText ??
      "The cache holds no events yet: mark partitions in the Sync tab (5) and press S.";
    titleColor = "yellow";
  } else if (!catalog.data) {
    title = "loading the event catalog…";
  } else {
    const n = all?.length ?? 0;
    title = model.filter
      ? `${rows.length} of ${n} event types match "${model.filter}" (esc clears)`
      : `${n} event types${range ? ` · ${rangeText(range)}` : ""}${catalog.status === "running" ? " · updating…" : ""}`;
  }

  const visible = lines.slice(first, first + listH);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Line text={title} width={width} color={titleColor} bold={!titleColor} />
      <Line text={view(header)} width={width} dim />
      {visible.map((text, i) => (
        <Row
          key={rows[first + i]!.event_type}
          text={view(text)}
          selected={first + i === cursor}
          width={width}
        />
      ))}
      {rows.length > listH || leftMax > 0 ? (
        <Line
          text={[
            rows.length > listH ? `${first + 1}-${first + visible.length} of ${rows.length}` : "",
            leftMax > 0 ? `←→ columns ${shift + 1}-${shift + width} of ${tableW}` : "",
          ]
            .filter(Boolean)
            .join(" · ")}
          width={width}
          dim
        />
      ) : null}
    </Box>
  );
}
