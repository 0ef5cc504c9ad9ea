/**
 * Tab 5: the source's date partitions and what the cache holds. Space and shift+up/down mark dates;
 * `S` syncs them (live progress, esc cancels), `D` evicts them, `r` lists rejected lines (enter shows
 * one in full), `R` lists the source again. Stays mounted while hidden so a running sync keeps going.
 * While live mode (`L`) syncs, `S` and `D` are refused, and the list follows each cycle that changed data.
 */
import { Box } from "ink";
import prettyBytes from "pretty-bytes";
import {
  memo,
  type ReactNode,
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import type { PartitionRow } from "../../cache/plan.js";
import type { CacheStatus, RejectRow } from "../../cache/status.js";
import type { SyncProgress } from "../../cache/sync.js";
import { bar } from "../../render/charts.js";
import { formatNumber } from "../../render/format.js";
import { cleanText, padEnd, padStart, truncate } from "../../render/sanitize.js";
import { PRIORITY, useKeys } from "../hooks/input.js";
import { useActions } from "../hooks/useActions.js";
import { isAbort, useQueryClient } from "../hooks/useQuery.js";
import { matches } from "../keymap.js";
import { useAppEnv } from "../state/state.js";
import { TextPanel } from "../widgets/overlays.js";
import { Confirm, clamp, HintLine, Line, scrollTop } from "../widgets/widgets.js";

const STATE_COLOR: Record<string, string | undefined> = {
  synced: "green",
  stale: "yellow",
  "not synced": undefined,
  failed: "red",
  "cached only": "magenta",
};

/** Marked dates as contiguous runs of rows: one sync call per run. */
export function runsOf(
  rows: PartitionRow[],
  marked: Set<string>,
): { from: string; to: string; dates: string[] }[] {
  const runs: { from: string; to: string; dates: string[] }[] = [];
  let cur: { from: string; to: string; dates: string[] } | null = null;
  for (const r of rows) {
    if (marked.has(r.date)) {
      if (!cur) {
        cur = { from: r.date, to: r.date, dates: [] };
        runs.push(cur);
      }
      cur.to = r.date;
      cur.dates.push(r.date);
    } else cur = null;
  }
  return runs;
}

function sizeText(n: number): string {
  return n ? prettyBytes(n) : "–";
}

export function partitionLine(r: PartitionRow, marked: boolean, width: number): string {
  const cols = [
    marked ? "●" : " ",
    padEnd(r.date, 10),
    padEnd(r.state, 11),
    padStart(r.sourceObjects ? formatNumber(r.sourceObjects) : "–", 7),
    padStart(sizeText(r.sourceBytes), 9),
    padStart(r.cachedObjects ? formatNumber(r.cachedObjects) : "–", 7),
    padStart(r.cachedEvents ? formatNumber(r.cachedEvents) : "–", 11),
    padStart(r.failed ? formatNumber(r.failed) : "", 6),
  ];
  return truncate(cols.join(" "), width);
}

const HEADER = [
  " ",
  padEnd("Date", 10),
  padEnd("State", 11),
  padStart("Objects", 7),
  padStart("Size", 9),
  padStart("Cached", 7),
  padStart("Events", 11),
  padStart("Failed", 6),
].join(" ");

const PartRow = memo(function PartRow({
  row,
  marked,
  selected,
  width,
}: {
  row: PartitionRow;
  marked: boolean;
  selected: boolean;
  width: number;
}) {
  return (
    <Line
      text={partitionLine(row, marked, width)}
      width={width}
      inverse={selected}
      color={selected ? undefined : STATE_COLOR[row.state]}
    />
  );
});

export function progressLine(p: SyncProgress, width: number, ascii: boolean, run?: string): string {
  const frac = p.bytesTotal > 0 ? p.bytesIngested / p.bytesTotal : p.phase === "done" ? 1 : 0;
  const facts = `${Math.round(frac * 100)}% ${formatNumber(p.ingested + p.failed)}/${formatNumber(p.toFetch)} objects · ${prettyBytes(p.bytesIngested)}/${prettyBytes(p.bytesTotal)} · ${formatNumber(p.events)} events${p.rejected ? ` · ${formatNumber(p.rejected)} rejected` : ""}${p.skipped ? ` · ${formatNumber(p.skipped)} skipped` : ""}${p.duplicates ? ` · ${formatNumber(p.duplicates)} duplicates` : ""}${p.failed ? ` · ${p.failed} failed` : ""}`;
  const head = `${p.phase}${run ? ` ${run}` : ""} `;
  const barW = clamp(width - head.length - facts.length - 3, 0, 30);
  return truncate(`${head}${barW >= 5 ? `${bar(frac, barW, ascii)} ` : ""}${facts} · esc cancels`, width);
}

type View = "partitions" | "rejects";

export interface SyncScreenProps {
  width: number;
  height: number;
  visible: boolean;
}

export function SyncScreen({ width, height, visible }: SyncScreenProps) {
  const env = useAppEnv();
  const client = useQueryClient();
  const api = env.session?.sync;
  const [rows, setRows] = useState<PartitionRow[] | null>(null);
  const [status, setStatus] = useState<CacheStatus | null>(null);
  const [source, setSource] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [cursor, setCursor] = useState(0);
  const [top, setTop] = useState(0);
  const [marked, setMarked] = useState<Set<string>>(new Set());
  const [anchor, setAnchor] = useState<number | null>(null);
  const [progress, setProgress] = useState<{ p: SyncProgress; run: string } | null>(null);
  const [busy, setBusy] = useState<null | "sync" | "evict" | "list">(null);
  const [note, setNote] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<string[] | null>(null);
  const [view, setView] = useState<View>("partitions");
  const [rejects, setRejects] = useState<{ total: number; list: RejectRow[] } | null>(null);
  const [rCursor, setRCursor] = useState(0);
  const [rTop, setRTop] = useState(0);
  const [detail, setDetail] = useState<RejectRow | null>(null);
  const loaded = useRef(false);
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );

  const load = useCallback(async () => {
    if (!api) return;
    const ac = new AbortController();
    const done = client.track("list source", () => ac.abort());
    setLoading(true);
    setBusy("list");
    setError(null);
    try {
      const [src, st] = [await api.sourceUrl(), await api.status()];
      if (!mounted.current) return;
      setSource(src);
      setStatus(st);
      const parts = await api.partitions(ac.signal);
      if (!mounted.current) return;
      setRows(parts);
    } catch (e) {
      if (mounted.current)
        setError(
          isAbort(e) || ac.signal.aborted ? "listing cancelled (R lists again)" : (e as Error).message,
        );
    } finally {
      done();
      if (mounted.current) {
        setLoading(false);
        setBusy(null);
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

  // The data changed under the list (a live cycle, a sync elsewhere): list again, now if the tab is
  // shown (unless a listing already runs), else when it is next shown.
  const stale = useRef(false);
  const watched = useRef({ visible, busy, load });
  watched.current = { visible, busy, load };
  useEffect(() => {
    let gen = client.generation;
    return client.subscribe(() => {
      if (client.generation === gen) return;
      gen = client.generation;
      const w = watched.current;
      if (!loaded.current || w.busy === "list") return;
      if (w.visible && !w.busy) void w.load();
      else stale.current = true;
    });
  }, [client]);
  useEffect(() => {
    if (visible && !busy && stale.current) {
      stale.current = false;
      void load();
    }
  }, [visible, busy, load]);

  // Shared mode: who is syncing, asked of the cache's host every 2 s while the tab is shown, so another
  // process's sync shows (and goes) without a refresh. Undefined until the first answer: then the
  // status's `syncing` stands.
  const [writer, setWriter] = useState<{ pid: number; what: string } | null | undefined>(undefined);
  useEffect(() => {
    const ask = api?.writer?.bind(api);
    if (!visible || !ask) return;
    let live = true;
    const poll = () =>
      ask().then(
        (w) => live && setWriter(w),
        () => {},
      );
    void poll();
    const timer = setInterval(poll, 2000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [visible, api]);
  const syncing = writer === undefined ? status?.syncing : writer;

  const list = rows ?? [];
  // A layout effect: `s`/`e` pressed right after the frame shows the result must see it.
  useLayoutEffect(() => {
    env.report(
      "sync",
      rows
        ? {
            title: "Sync",
            table: {
              columns: [
                "date",
                "state",
                "source_objects",
                "source_bytes",
                "cached_objects",
                "cached_events",
                "failed",
              ],
              rows: rows.map((r) => [
                r.date,
                r.state,
                r.sourceObjects,
                r.sourceBytes,
                r.cachedObjects,
                r.cachedEvents,
                r.failed,
              ]),
            },
          }
        : null,
    );
  }, [rows, env.report]);

  const readOnlyNote = () =>
    setNote(
      `read-only: the cache is in use by another evx process${env.session?.lockedBy ? ` (PID ${env.session.lockedBy})` : ""}`,
    );

  const selection = (): string[] => {
    if (marked.size) return list.filter((r) => marked.has(r.date)).map((r) => r.date);
    const r = list[cursor];
    return r ? [r.date] : [];
  };

  const runSync = async () => {
    if (!api || busy) return;
    if (env.session?.readOnly) return readOnlyNote();
    const sel = new Set(selection());
    const runs = runsOf(list, sel);
    if (!runs.length) return;
    const ac = new AbortController();
    const done = client.track("sync", () => ac.abort());
    setBusy("sync");
    setNote(null);
    let events = 0;
    let objects = 0;
    let failed = 0;
    try {
      for (const [i, run] of runs.entries()) {
        if (ac.signal.aborted) break;
        const label = runs.length > 1 ? `${i + 1}/${runs.length}` : "";
        const summary = await api.sync({ from: run.from, to: run.to }, ac.signal, (p) => {
          if (mounted.current) setProgress({ p, run: label });
        });
        events += summary.events;
        objects += summary.objects.downloaded;
        failed += summary.objects.failed;
      }
      if (mounted.current)
        setNote(
          ac.signal.aborted
            ? "sync cancelled; the cache is consistent and the next sync resumes"
            : `synced ${formatNumber(objects)} objects, ${formatNumber(events)} events${failed ? `; ${failed} failed (S retries)` : ""}`,
        );
    } catch (e) {
      if (mounted.current)
        setNote(
          isAbort(e) || ac.signal.aborted
            ? "sync cancelled; the cache is consistent and the next sync resumes"
            : `sync failed: ${(e as Error).message.split("\n")[0]}`,
        );
    } finally {
      done();
      if (mounted.current) {
        setBusy(null);
        setProgress(null);
        setMarked(new Set());
      }
      env.dataChanged();
      if (mounted.current) await load();
    }
  };

  const runEvict = async (dates: string[]) => {
    if (!api || busy) return;
    setBusy("evict");
    try {
      const n = await api.evict(dates);
      setNote(
        `evicted ${dates.length} partition${dates.length === 1 ? "" : "s"} (${formatNumber(n)} events)`,
      );
    } catch (e) {
      setNote(`evict failed: ${(e as Error).message.split("\n")[0]}`);
    } finally {
      setBusy(null);
      setMarked(new Set());
      env.dataChanged();
      await load();
    }
  };

  const openRejects = async () => {
    if (!api || busy === "sync") return;
    setView("rejects");
    setRCursor(0);
    try {
      const r = await api.rejects(500, 0);
      if (mounted.current) setRejects({ total: r.total, list: r.rejects });
    } catch (e) {
      if (mounted.current) setNote(`rejects: ${(e as Error).message}`);
    }
  };

  const headH = 4; // source, totals, progress/note, header
  const listH = Math.max(1, height - headH - 1);
  const cur = clamp(cursor, 0, Math.max(0, list.length - 1));
  const first = scrollTop(top, cur, listH, list.length);
  useEffect(() => {
    if (first !== top) setTop(first);
  }, [first, top]);

  const moveTo = (to: number, extend = false) => {
    const next = clamp(to, 0, Math.max(0, list.length - 1));
    if (extend) {
      const a = anchor ?? cur;
      setAnchor(a);
      setMarked((m) => {
        const s = new Set(m);
        for (let i = Math.min(a, next); i <= Math.max(a, next); i++) s.add(list[i]!.date);
        return s;
      });
    } else setAnchor(null);
    setCursor(next);
  };

  // The rejects list is a panel over the partitions: it takes esc (back) before the global cancel.
  useKeys(
    (input, key) => {
      const n = rejects?.list.length ?? 0;
      if (key.escape || matches("sync.rejects", input, key)) setView("partitions");
      else if (matches("sync.up", input, key)) setRCursor((c) => clamp(c - 1, 0, Math.max(0, n - 1)));
      else if (matches("sync.down", input, key)) setRCursor((c) => clamp(c + 1, 0, Math.max(0, n - 1)));
      else if (matches("sync.pageUp", input, key)) setRCursor((c) => clamp(c - listH, 0, Math.max(0, n - 1)));
      else if (matches("sync.pageDown", input, key))
        setRCursor((c) => clamp(c + listH, 0, Math.max(0, n - 1)));
      else if (matches("sync.open", input, key)) {
        const r = rejects?.list[rCursor];
        if (r) setDetail(r);
      } else return false;
      return true;
    },
    { priority: PRIORITY.panel, isActive: visible && view === "rejects" && !confirm && !detail },
  );

  useKeys(
    (input, key) => {
      if (matches("sync.up", input, key)) moveTo(cur - 1);
      else if (matches("sync.down", input, key)) moveTo(cur + 1);
      else if (matches("sync.pageUp", input, key)) moveTo(cur - listH);
      else if (matches("sync.pageDown", input, key)) moveTo(cur + listH);
      else if (matches("sync.extendUp", input, key)) moveTo(cur - 1, true);
      else if (matches("sync.extendDown", input, key)) moveTo(cur + 1, true);
      else if (matches("sync.mark", input, key)) {
        const r = list[cur];
        if (r)
          setMarked((m) => {
            const s = new Set(m);
            if (s.has(r.date)) s.delete(r.date);
            else s.add(r.date);
            return s;
          });
        setAnchor(cur);
      } else if (matches("sync.sync", input, key)) void runSync();
      else if (matches("sync.evict", input, key)) {
        if (busy) return true;
        if (env.session?.readOnly) readOnlyNote();
        else {
          const dates = selection().filter((d) => list.find((r) => r.date === d)?.cachedObjects);
          if (dates.length) setConfirm(dates);
          else setNote("nothing cached in the selected partitions");
        }
      } else if (matches("sync.rejects", input, key)) void openRejects();
      else if (matches("sync.refresh", input, key)) {
        if (!busy) void load();
      } else if (key.escape && marked.size) setMarked(new Set());
      else return false;
      return true;
    },
    { priority: PRIORITY.screen, isActive: visible && view === "partitions" && !confirm && !detail },
  );
  // For the command palette: the rejects list takes only `r` (back) and Enter; the partitions all but Enter.
  useActions(
    "sync",
    view === "rejects"
      ? ["sync.mark", "sync.sync", "sync.evict", "sync.refresh", !rejects?.list[rCursor] && "sync.open"]
      : ["sync.open", !list.length && "sync.mark", !!env.session?.readOnly && "sync.evict"],
    visible && !confirm && !detail,
  );

  const totals = status
    ? `cache ${formatNumber(status.events)} events · ${formatNumber(status.users)} users · ${formatNumber(status.rejected)} rejected lines${status.skipped ? ` · ${formatNumber(status.skipped)} skipped` : ""}${status.duplicates ? ` · ${formatNumber(status.duplicates)} duplicates` : ""}${status.format?.preset ? ` · preset ${status.format.preset}` : ""}${status.first_event ? ` · ${status.first_event.slice(0, 10)} → ${(status.last_event ?? "").slice(0, 10)}` : ""}`
    : "cache: loading totals…";
  const sourceLine = `source ${source ? cleanText(source) : loading ? "…" : "(none)"}${env.session?.readOnly ? " · read-only" : ""}${
    rows ? ` · ${rows.length} partitions · ${marked.size} marked` : ""
  }${
    // Shared mode: another process's running sync (this TUI's own shows as progress below).
    syncing && syncing.pid !== process.pid
      ? ` · evx ${cleanText(syncing.what)} (PID ${syncing.pid}) is syncing`
      : ""
  }`;
  let third: { text: string; color?: string };
  if (progress) third = { text: progressLine(progress.p, width, env.ascii, progress.run), color: "yellow" };
  else if (busy === "evict") third = { text: "evicting…", color: "yellow" };
  else if (error) third = { text: error, color: "red" };
  else if (note) third = { text: note, color: /failed|read-only/.test(note) ? "red" : "green" };
  else if (loading) third = { text: "listing the source…" };
  else third = { text: " " };

  const lines = useMemo(() => list.slice(first, first + listH), [list, first, listH]);

  let body: ReactNode;
  if (detail) {
    body = (
      <TextPanel
        title={`${cleanText(detail.key)} line ${detail.line ?? "?"}: ${cleanText(detail.reason)}`}
        text={detail.raw ?? "(no raw text kept)"}
        width={width}
        height={height}
        onClose={() => setDetail(null)}
      />
    );
  } else if (confirm) {
    body = (
      <Confirm
        text={`Evict ${confirm.length} partition${confirm.length === 1 ? "" : "s"} (${confirm[0]}${confirm.length > 1 ? ` … ${confirm[confirm.length - 1]}` : ""}) from the cache?`}
        width={width}
        onYes={() => {
          const d = confirm;
          setConfirm(null);
          void runEvict(d);
        }}
        onNo={() => setConfirm(null)}
      />
    );
  } else if (view === "rejects") {
    const rl = rejects?.list ?? [];
    const rc = clamp(rCursor, 0, Math.max(0, rl.length - 1));
    const rFirst = scrollTop(rTop, rc, listH + 1, rl.length);
    if (rFirst !== rTop) queueMicrotask(() => setRTop(rFirst));
    body = (
      <>
        <Line
          text={
            rejects
              ? `Rejected lines: ${formatNumber(rejects.total)}${rejects.total > rl.length ? ` (first ${rl.length} shown)` : ""} · enter shows one · esc back`
              : "loading rejected lines…"
          }
          width={width}
          bold
        />
        <Line text={`${padEnd("Object", 40)} ${padStart("Line", 7)}  Reason`} width={width} dim />
        {rl.slice(rFirst, rFirst + listH + 1).map((r, i) => (
          <Line
            // biome-ignore lint/suspicious/noArrayIndexKey: a window over a fixed list
            key={`${r.key}:${r.line}:${rFirst + i}`}
            text={`${padEnd(cleanText(r.key), 40)} ${padStart(r.line === null ? "–" : String(r.line), 7)}  ${cleanText(r.reason)}`}
            width={width}
            inverse={rFirst + i === rc}
          />
        ))}
        {rejects && rl.length === 0 ? <Line text="no rejected lines" width={width} dim /> : null}
      </>
    );
  } else {
    body = (
      <>
        <Line text={HEADER} width={width} dim />
        {lines.map((r, i) => (
          <PartRow
            key={r.date}
            row={r}
            marked={marked.has(r.date)}
            selected={first + i === cur}
            width={width}
          />
        ))}
        {rows && rows.length === 0 ? (
          <Line text="the source has no date partitions" width={width} dim />
        ) : null}
      </>
    );
  }

  return (
    <Box flexDirection="column" width={width} height={height} display={visible ? "flex" : "none"}>
      <Line text={sourceLine} width={width} bold />
      <Line text={totals} width={width} dim />
      <Line text={third.text} width={width} color={third.color} />
      <Box flexDirection="column" height={height - 4} overflow="hidden">
        {body}
      </Box>
      <HintLine
        ids={
          view === "rejects"
            ? ["sync.open", "sync.up", "sync.down"]
            : ["sync.mark", "sync.extendDown", "sync.sync", "sync.evict", "sync.rejects", "sync.refresh"]
        }
        width={width}
        extra={view === "rejects" ? "esc back" : undefined}
      />
    </Box>
  );
}
