/**
 * Tab 5 on a server engine (ClickHouse): the table's date partitions instead of the local cache's.
 * Per date: a state, the rows, bytes on disk and parts of its active parts (`system.parts`), the objects
 * and bytes the source had at the last load's listing, and the date's last load (status, time, rejected
 * lines), where `evx clickhouse load` recorded them. `R` lists again; the list also follows Ctrl+R.
 *
 * The server loads its own data (`evx clickhouse load`), so `S`, `D`, space and `r` are refused here with
 * the session's one-line reason (live mode's `L` is refused by the App the same way).
 */
import { Box } from "ink";
import prettyBytes from "pretty-bytes";
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { formatNumber } from "../../render/format.js";
import { cleanText, padEnd, padStart, truncate } from "../../render/sanitize.js";
import { PRIORITY, useKeys } from "../hooks/input.js";
import { useActions } from "../hooks/useActions.js";
import { errorText, isAbort, useQueryClient } from "../hooks/useQuery.js";
import { matches } from "../keymap.js";
import { type ServerPartitionRow, useAppEnv } from "../state/state.js";
import { clamp, HintLine, Line, scrollTop } from "../widgets/widgets.js";

export type ServerPartitionState = "loaded" | "stale" | "not loaded" | "failed" | "empty";

/**
 * A date's state, by coverage's rules (src/queries/clickhouse/coverage.ts): `failed` when its last load
 * failed (the table keeps the previous load), `not loaded` when the source has objects and the table no
 * rows, `stale` when the last listing had more objects than the last load read, `loaded` when the table
 * has rows, `empty` otherwise (a load whose lines were all rejected).
 */
export function serverState(r: ServerPartitionRow): ServerPartitionState {
  if (r.lastLoad?.status === "failed") return "failed";
  if (r.rows === 0 && r.sourceObjects > 0) return "not loaded";
  if (r.lastLoad && r.sourceObjects > r.lastLoad.objects) return "stale";
  return r.rows > 0 ? "loaded" : "empty";
}

const STATE_COLOR: Record<ServerPartitionState, string | undefined> = {
  loaded: "green",
  stale: "yellow",
  "not loaded": undefined,
  failed: "red",
  empty: "magenta",
};

const sizeText = (n: number) => (n ? prettyBytes(n) : "–");
const countText = (n: number) => (n ? formatNumber(n) : "–");
/** `2023-06-15 10:00:00.123` → `2023-06-15 10:00`; `seconds`: `…10:00:00`; `short`: `06-15 10:00`. */
const loadTime = (t: string, o: { seconds?: boolean; short?: boolean } = {}) =>
  cleanText(t).slice(o.short ? 5 : 0, o.seconds ? 19 : 16);

function lastLoadText(r: ServerPartitionRow, short: boolean): string {
  const l = r.lastLoad;
  if (!l) return "–";
  return l.status === "failed"
    ? `failed ${loadTime(l.loaded_at, { short })}${l.error ? `: ${cleanText(l.error)}` : ""}`
    : `ok ${loadTime(l.loaded_at, { short })}`;
}

/** Below this width the list leaves out parts and the source's bytes, and the load's year. */
const WIDE = 99;

export function serverPartitionLine(r: ServerPartitionRow, width: number): string {
  const wide = width >= WIDE;
  const cols = [
    " ",
    padEnd(r.date, 10),
    padEnd(serverState(r), 10),
    padStart(countText(r.rows), 11),
    padStart(sizeText(r.bytes), 9),
    ...(wide ? [padStart(countText(r.parts), 5)] : []),
    padStart(countText(r.sourceObjects), 7),
    ...(wide ? [padStart(sizeText(r.sourceBytes), 9)] : []),
    padStart(r.lastLoad?.rejected ? formatNumber(r.lastLoad.rejected) : "", 8),
    ` ${lastLoadText(r, !wide)}`,
  ];
  return truncate(cols.join(" "), width);
}

export function serverHeader(width: number): string {
  const wide = width >= WIDE;
  return truncate(
    [
      " ",
      padEnd("Date", 10),
      padEnd("State", 10),
      padStart("Rows", 11),
      padStart("Size", 9),
      ...(wide ? [padStart("Parts", 5)] : []),
      padStart("Objects", 7),
      ...(wide ? [padStart("Src size", 9)] : []),
      padStart("Rejected", 8),
      " Last load",
    ].join(" "),
    width,
  );
}

const PartRow = memo(function PartRow({
  row,
  selected,
  width,
}: {
  row: ServerPartitionRow;
  selected: boolean;
  width: number;
}) {
  return (
    <Line
      text={serverPartitionLine(row, width)}
      width={width}
      inverse={selected}
      color={selected ? undefined : STATE_COLOR[serverState(row)]}
    />
  );
});

export interface ServerTableScreenProps {
  width: number;
  height: number;
  visible: boolean;
}

export function ServerTableScreen({ width, height, visible }: ServerTableScreenProps) {
  const env = useAppEnv();
  const client = useQueryClient();
  const api = env.session?.server;
  const refused = env.session?.syncRefused ?? "this engine loads its own data";
  const [rows, setRows] = useState<ServerPartitionRow[] | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [cursor, setCursor] = useState(0);
  const [top, setTop] = useState(0);
  const loaded = useRef(false);
  const mounted = useRef(true);
  const listing = useRef<AbortController | null>(null);
  useEffect(
    () => () => {
      mounted.current = false;
      listing.current?.abort();
    },
    [],
  );

  const load = useCallback(async () => {
    if (!api) return;
    listing.current?.abort();
    const ac = new AbortController();
    listing.current = ac;
    const done = client.track("list partitions", () => ac.abort());
    setLoading(true);
    setError(null);
    try {
      const parts = await api.partitions(ac.signal);
      if (mounted.current && !ac.signal.aborted) setRows(parts);
    } catch (e) {
      if (mounted.current && listing.current === ac)
        setError(isAbort(e) || ac.signal.aborted ? "listing cancelled (R lists again)" : errorText(e));
    } finally {
      done();
      if (mounted.current && listing.current === ac) {
        listing.current = null;
        setLoading(false);
      }
    }
  }, [api, client]);

  // List on first view, not at launch: the catalog and charts come first.
  useEffect(() => {
    if (visible && api && !loaded.current) {
      loaded.current = true;
      void load();
    }
  }, [visible, api, load]);

  // Everything runs again (Ctrl+R): list again, now if the tab is shown, else when it is next shown.
  const stale = useRef(false);
  const watched = useRef({ visible, load });
  watched.current = { visible, load };
  useEffect(() => {
    let gen = client.generation;
    return client.subscribe(() => {
      if (client.generation === gen) return;
      gen = client.generation;
      if (!loaded.current) return;
      if (watched.current.visible) void watched.current.load();
      else stale.current = true;
    });
  }, [client]);
  useEffect(() => {
    if (visible && stale.current) {
      stale.current = false;
      void load();
    }
  }, [visible, load]);

  const list = rows ?? [];
  // A layout effect: `s`/`e` pressed right after the frame shows the result must see it.
  useLayoutEffect(() => {
    env.report(
      "sync",
      rows
        ? {
            title: "Partitions",
            table: {
              columns: [
                "date",
                "state",
                "rows",
                "bytes",
                "parts",
                "source_objects",
                "source_bytes",
                "last_load_status",
                "last_load_at",
                "last_load_rejected",
              ],
              rows: rows.map((r) => [
                r.date,
                serverState(r),
                r.rows,
                r.bytes,
                r.parts,
                r.sourceObjects,
                r.sourceBytes,
                r.lastLoad?.status ?? null,
                r.lastLoad?.loaded_at ?? null,
                r.lastLoad?.rejected ?? null,
              ]),
            },
          }
        : null,
    );
  }, [rows, env.report]);

  const headH = 4; // table, totals, note, header
  const listH = Math.max(1, height - headH - 1);
  const cur = clamp(cursor, 0, Math.max(0, list.length - 1));
  const first = scrollTop(top, cur, listH, list.length);
  useEffect(() => {
    if (first !== top) setTop(first);
  }, [first, top]);
  const moveTo = (to: number) => setCursor(clamp(to, 0, Math.max(0, list.length - 1)));

  useKeys(
    (input, key) => {
      if (matches("sync.up", input, key)) moveTo(cur - 1);
      else if (matches("sync.down", input, key)) moveTo(cur + 1);
      else if (matches("sync.pageUp", input, key)) moveTo(cur - listH);
      else if (matches("sync.pageDown", input, key)) moveTo(cur + listH);
      else if (matches("sync.refresh", input, key)) {
        setNote(null);
        void load();
      } else if (
        matches("sync.sync", input, key) ||
        matches("sync.evict", input, key) ||
        matches("sync.mark", input, key) ||
        matches("sync.extendUp", input, key) ||
        matches("sync.extendDown", input, key)
      )
        setNote(refused);
      else if (matches("sync.rejects", input, key))
        setNote("rejected lines stay with each load: their counts are in the Last load column");
      else return false;
      return true;
    },
    { priority: PRIORITY.screen, isActive: visible },
  );
  // For the command palette: a server's table is listed, not synced (those keys only say why).
  useActions("sync", ["sync.mark", "sync.sync", "sync.evict", "sync.rejects", "sync.open"], visible);

  const totals = useMemo(() => {
    if (!rows) return loading ? "reading system.parts…" : " ";
    const sum = (f: (r: ServerPartitionRow) => number) => rows.reduce((a, r) => a + f(r), 0);
    const times = rows.flatMap((r) => (r.lastLoad ? [r.lastLoad.loaded_at] : [])).sort();
    const last = times.length
      ? `last load ${loadTime(times[times.length - 1]!, { seconds: true })}`
      : "no load recorded (not filled by evx clickhouse load)";
    return `${formatNumber(sum((r) => r.rows))} rows · ${sizeText(sum((r) => r.bytes))} on disk · ${formatNumber(sum((r) => r.parts))} parts · ${last}`;
  }, [rows, loading]);
  const head = `table ${api?.table ?? "?"}${rows ? ` · ${rows.length} partitions` : ""}`;
  let third: { text: string; color?: string };
  if (error) third = { text: error, color: "red" };
  else if (note) third = { text: note, color: note === refused ? "red" : "yellow" };
  else if (loading) third = { text: "listing the table's partitions…" };
  else third = { text: " " };

  const lines = list.slice(first, first + listH);
  return (
    <Box flexDirection="column" width={width} height={height} display={visible ? "flex" : "none"}>
      <Line text={head} width={width} bold />
      <Line text={totals} width={width} dim />
      <Line text={third.text} width={width} color={third.color} />
      <Box flexDirection="column" height={height - 4} overflow="hidden">
        <Line text={serverHeader(width)} width={width} dim />
        {lines.map((r, i) => (
          <PartRow key={r.date} row={r} selected={first + i === cur} width={width} />
        ))}
        {rows && rows.length === 0 ? (
          <Line text="the table has no date partitions" width={width} dim />
        ) : null}
      </Box>
      <HintLine
        ids={["sync.up", "sync.down"]}
        width={width}
        extra="R list again  loads: evx clickhouse load"
      />
    </Box>
  );
}
