/**
 * The TUI root: tab bar, the current screen, overlays and the status bar, inside a frame one row
 * shorter than the terminal (a full-height frame makes Ink clear the screen on every redraw).
 *
 * Keys go through one dispatcher (`input.tsx`): Ctrl+C first (cancel what runs, again quits), then
 * overlays and prompts, then the global bindings, then the screen. The first frame is drawn before
 * the cache is even open; `connect` runs after it and data fills in.
 *
 * `:` opens the command palette (`state/palette.ts`): the actions live on screen, from the keymap, minus
 * those that would do nothing now (each screen says which, `useActions`); the chosen one is sent as its
 * key through the same dispatcher.
 *
 * `L` turns live mode on (`live.ts`): the source is synced every `liveEveryMs`, and each cycle that
 * changed the data refreshes everything, `last …` ranges included. Quitting stops it after the
 * current batch; a second q or Ctrl+C while it winds down leaves at once (`onForceQuit`).
 *
 * The session may be a local cache or a ClickHouse table (`chsession.ts`): the screens run specs the
 * same way on either; the status bar names the session's label, `s` inlines parameters as the
 * session's engine reads them, and the Sync tab shows the server's partitions instead of the cache's
 * (sync, evict and live mode are refused there with the session's one-line reason).
 */

import { Box, Text, useApp } from "ink";
import { type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import { commandLine } from "../queries/command.js";
import { sampleText } from "../queries/sample.js";
import type { CatalogSpec, DateRange, EventRef } from "../queries/spec.js";
import { lastRange } from "../queries/time.js";
import { InputProvider, PRIORITY, useDispatchKey, useKeys } from "./hooks/input.js";
import { ActionsContext, createActionsRegistry } from "./hooks/useActions.js";
import { ClipboardContext } from "./hooks/useClipboard.js";
import { errorText, QueryClient, QueryClientContext, useQuery } from "./hooks/useQuery.js";
import { useTerminalSize } from "./hooks/useTerminalSize.js";
import { matches } from "./keymap.js";
import { EventsScreen } from "./screens/EventsScreen.js";
import { FunnelScreen } from "./screens/FunnelScreen.js";
import { LifecycleScreen } from "./screens/LifecycleScreen.js";
import { PathsScreen } from "./screens/PathsScreen.js";
import { RetentionScreen } from "./screens/RetentionScreen.js";
import { ServerTableScreen } from "./screens/ServerTableScreen.js";
import { SyncScreen } from "./screens/SyncScreen.js";
import { TrendsScreen } from "./screens/TrendsScreen.js";
import { type Clipboard, copiedText, copyText, terminalClipboard } from "./state/clipboard.js";
import { exportResult } from "./state/export.js";
import { DEFAULT_LIVE_EVERY_MS, liveText, useLive } from "./state/live.js";
import { type PaletteAction, paletteActions } from "./state/palette.js";
import {
  type AppEnv,
  AppEnvContext,
  type CurrentResult,
  initialModels,
  type Session,
  TABS,
  type TabId,
} from "./state/state.js";
import {
  checkViewName,
  readViews,
  type SavedView,
  saveLast,
  saveView,
  settingsOf,
  viewSummary,
} from "./state/views.js";
import {
  DateRangeEditor,
  HelpPanel,
  inlineParams,
  lastLabel,
  type RangeChoice,
  TextPanel,
} from "./widgets/overlays.js";
import { coverageNote, StatusBar } from "./widgets/StatusBar.js";
import { frameSize, OPENING_STATUS, openingLine, tabBarLayout } from "./widgets/splash.js";
import { Line, ListPicker, TextPrompt } from "./widgets/widgets.js";

/** What `%` cycles through (docs/semantics.md, "Sampling"): all users, 10%, 1%. */
const SAMPLE_STEPS: readonly (number | undefined)[] = [undefined, 0.1, 0.01];

export interface AppProps {
  /** Opens the cache; called once, after the first frame. */
  connect: () => Promise<Session>;
  /** Shown while connecting (the cache file, or the ClickHouse table). */
  cachePath: string;
  /** The status bar's text while connecting (default "opening cache…"). */
  openingStatus?: string;
  /** Called once when the user quits (after the session is closed). */
  onQuit?: () => void;
  color?: boolean;
  /** ASCII fallbacks for shading, sparklines and bars. */
  ascii?: boolean;
  /** Where `e` writes files (default `$EVX_EXPORT_DIR` or the working folder). */
  exportDir?: string;
  initialTab?: TabId;
  /** Time zone of dates and buckets. Default UTC. */
  tz?: string;
  /** Attach to stdin (false when it cannot be put in raw mode). Default true. */
  keyboard?: boolean;
  /** Startup milestones ("first data"), for timing. */
  onMilestone?: (what: string) => void;
  /** Live mode's interval (`evx ui --every`); default 60 s. */
  liveEveryMs?: number;
  /**
   * Called instead of closing the session when the user quits a second time while live mode
   * finishes its batch: the caller then leaves without closing the cache mid-batch (as a kill would).
   */
  onForceQuit?: () => void;
  /** Where `y`/`Y` copy to (default: OSC 52 on this process's stdout, or a file). */
  clipboard?: Clipboard;
  /** Flags that say where the data is, for the command `y` copies (`--cache PATH`, `--engine …`). */
  commandSource?: readonly string[];
  /** Opens on this view (`evx ui --view NAME`, or where the TUI was left). */
  view?: SavedView;
  /** `evx ui --sample P%`: the analyses read that share of the users (docs/semantics.md, "Sampling"). */
  sample?: number;
  /** The saved views' file: `w` saves there, `'` lists it, and quitting records where the TUI was left. */
  viewsPath?: string;
}

type Overlay =
  | null
  | { kind: "help" }
  | { kind: "sql" }
  | { kind: "range" }
  | { kind: "text"; title: string; text: string }
  | { kind: "saveView" }
  | { kind: "palette"; actions: PaletteAction[] }
  | { kind: "openView"; views: Record<string, SavedView> };

export function App(props: AppProps) {
  const [session, setSession] = useState<Session | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: one client for the App's life; the sample it starts with is the first props'
  const client = useMemo(() => {
    const c = new QueryClient({
      run: async (spec, opts) => {
        const s = sessionRef.current;
        if (!s) throw new Error("the cache is not open yet");
        // A mistyped property key fails like any query (the status bar's error line); a key none of
        // the analysis's events has in range comes back as a warning for the status bar's note.
        const warnings = (await s.checkKeys?.(spec, opts?.signal)) ?? [];
        const out = await s.runner.run(spec, opts);
        return warnings.length ? { ...out, warnings } : out;
      },
    });
    // `evx ui --sample`, else the view it opens on.
    c.sample = props.sample ?? props.view?.sample;
    return c;
  }, []);
  const sessionRef = useRef<Session | null>(null);

  useEffect(() => {
    let cancelled = false;
    const attempt = () =>
      props.connect().then(
        async (s) => {
          // The identity default (merged when the data has identity rules) before the first query.
          const identity = await s.runner.identityDefault?.().catch(() => undefined);
          if (cancelled) {
            closeQuietly(s);
            return;
          }
          client.setIdentity(identity);
          client.identityDefault = identity;
          sessionRef.current = s;
          setFailure(null);
          setSession(s);
        },
        (e: unknown) => {
          if (cancelled) return;
          const message = (e as Error).message ?? String(e);
          // A sync holds the cache (DuckDB then refuses even readers): wait for it, as lazygit
          // waits for git's index lock, instead of making the user start again.
          if ((e as Error).name === "CacheLockedError") {
            const pid = (e as { pid?: number }).pid;
            setFailure(
              `in use by another evx process${pid ? ` (PID ${pid})` : ""}\nwaiting for it to finish…`,
            );
            t = setTimeout(attempt, LOCK_RETRY_MS);
          } else setFailure(message);
        },
      );
    // Let the first frame reach the terminal before DuckDB loads.
    let t = setTimeout(attempt, 0);
    return () => {
      cancelled = true;
      clearTimeout(t);
    };
  }, [props.connect, client.setIdentity, client]);

  const clipboard = useMemo(() => props.clipboard ?? terminalClipboard(), [props.clipboard]);
  const actions = useMemo(() => createActionsRegistry(), []);
  return (
    <QueryClientContext.Provider value={client}>
      <ClipboardContext.Provider value={clipboard}>
        <InputProvider isActive={props.keyboard !== false}>
          <ActionsContext.Provider value={actions}>
            <Main {...props} session={session} failure={failure} client={client} clipboard={clipboard} />
          </ActionsContext.Provider>
        </InputProvider>
      </ClipboardContext.Provider>
    </QueryClientContext.Provider>
  );
}

/** How often the TUI retries a cache another process holds. */
const LOCK_RETRY_MS = 1000;

/** Closes a session without letting a failure (thrown, or a rejected promise) escape. */
function closeQuietly(s: Session | null | undefined): void {
  try {
    const p = s?.close();
    if (p) p.catch(() => {});
  } catch {}
}

function Main(
  props: AppProps & {
    session: Session | null;
    failure: string | null;
    client: QueryClient;
    clipboard: Clipboard;
  },
) {
  const { session, client } = props;
  const app = useApp();
  const { columns, rows } = useTerminalSize();
  const { width, height } = frameSize(columns, rows);
  const dispatchKey = useDispatchKey();
  const actions = useContext(ActionsContext);
  const tz = props.tz ?? "UTC";

  const [tab, setTab] = useState<TabId>(props.view?.tab ?? props.initialTab ?? "events");
  const [overlay, setOverlay] = useState<Overlay>(null);
  const [message, setMessage] = useState<{ text: string; tone: "info" | "error" } | null>(null);
  const [bounds, setBounds] = useState<{ from: string; to: string } | null>(null);
  /** The cache was read and holds no events. */
  const [empty, setEmpty] = useState(false);
  const [userRange, setUserRange] = useState<RangeChoice | null>(() => rangeOfView(props.view));
  /** The newest event (epoch µs): `last …` ranges end at the minute after it. */
  const [latestUs, setLatestUs] = useState<number | null>(null);
  const [stopping, setStopping] = useState(false);
  const [models] = useState(() => modelsOf(props.view));
  const [eventsModel, setEventsModel] = useState(models.events);
  const [trendsModel, setTrendsModel] = useState(models.trends);
  const [funnelModel, setFunnelModel] = useState(models.funnel);
  const [retentionModel, setRetentionModel] = useState(models.retention);
  const [pathsModel, setPathsModel] = useState(models.paths);
  const [lifecycleModel, setLifecycleModel] = useState(models.lifecycle);
  const [boundsGen, setBoundsGen] = useState(0);
  const current = useRef(new Map<TabId, CurrentResult | null>());
  const drill = useRef<CurrentResult | null>(null);
  // Each screen's whole settings line, for the help (read when it opens: no re-render needed).
  const screenSettings = useRef(new Map<TabId, string>());
  // Each screen's selected row, whole, for `z` (read when pressed: no re-render needed).
  const selection = useRef(new Map<TabId | "drill", string>());
  const reportSelection = useCallback((t: TabId | "drill", text: string) => {
    selection.current.set(t, text);
  }, []);
  /** The last status message, kept after it leaves the status bar (`z` shows it whole). */
  const lastMessage = useRef<string | null>(null);
  const reportSettings = useCallback((t: TabId, text: string) => {
    screenSettings.current.set(t, text);
  }, []);
  const interruptArmed = useRef(false);
  const quitting = useRef(false);
  const exited = useRef(false);

  // The cached range (default date range), again after a sync or evict (`boundsGen`).
  // biome-ignore lint/correctness/useExhaustiveDependencies: boundsGen re-reads after data changed
  useEffect(() => {
    if (!session) return;
    let live = true;
    session.bounds(tz).then(
      (b) => {
        if (!live) return;
        setBounds(b);
        setEmpty(b === null);
      },
      (e: unknown) => {
        if (live) setMessage({ text: `could not read the cached range: ${errorText(e)}`, tone: "error" });
      },
    );
    return () => {
      live = false;
    };
  }, [session, tz, boundsGen]);

  // The newest event, for the `last …` presets (again when the data changes: see `dataChanged`).
  useEffect(() => {
    if (!session) return;
    let live = true;
    session.lastEventUs().then(
      (us) => {
        if (live) setLatestUs(us);
      },
      () => {},
    );
    return () => {
      live = false;
    };
  }, [session]);

  // A `last …` choice is resolved from the newest event; it slides as new data arrives.
  const range = useMemo<DateRange | null>(() => {
    if (userRange?.last !== undefined && latestUs !== null) {
      const r = lastRange(latestUs, userRange.last, tz);
      return { from: r.from, to: r.to, tz };
    }
    // A saved view's `last …` range waits for the newest event.
    if (userRange?.last !== undefined && !userRange.from) return null;
    const r = userRange ?? bounds;
    return r ? { from: r.from, to: r.to, tz } : null;
  }, [userRange, latestUs, bounds, tz]);
  const rangeLabel =
    userRange?.last !== undefined && range ? lastLabel({ ...range, last: userRange.last }, tz) : undefined;

  const catalogSpec = useMemo<CatalogSpec | null>(() => (range ? { kind: "catalog", range } : null), [range]);
  const catalog = useQuery(catalogSpec);

  // Sensible first views: the most frequent event in Trends, and as the retention start.
  const seeded = useRef(false);
  /** The first views were just seeded: that is not a step of the back history. */
  const seeding = useRef(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: once, when the first catalog arrives
  useEffect(() => {
    if (!catalog.data || seeded.current) return;
    seeded.current = true;
    props.onMilestone?.("first data");
    const top = catalog.data.events[0]?.event_type;
    if (!top) return;
    seeding.current =
      !trendsModel.events.length || !retentionModel.start || !pathsModel.anchor || !lifecycleModel.event;
    setTrendsModel((m) => (m.events.length ? m : { ...m, events: [{ event: top, filters: [] }] }));
    setRetentionModel((m) => (m.start ? m : { ...m, start: { event: top, filters: [] } }));
    setPathsModel((m) => (m.anchor ? m : { ...m, anchor: { event: top, filters: [] } }));
    setLifecycleModel((m) => (m.event ? m : { ...m, event: { event: top, filters: [] } }));
  }, [catalog.data]);

  const messageTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const notify = useCallback((text: string, tone: "info" | "error" = "info") => {
    lastMessage.current = text;
    setMessage({ text, tone });
    clearTimeout(messageTimer.current);
    messageTimer.current = setTimeout(() => setMessage(null), 5000);
  }, []);
  useEffect(() => () => clearTimeout(messageTimer.current), []);

  // Read by `s`/`e` through the ref (fresh at key time); the tick re-renders an open SQL overlay.
  const [, setReportTick] = useState(0);
  const report = useCallback((t: TabId, c: CurrentResult | null) => {
    current.current.set(t, c);
    setReportTick((n) => n + 1);
  }, []);
  const reportDrill = useCallback((c: CurrentResult | null) => {
    drill.current = c;
    setReportTick((n) => n + 1);
  }, []);
  /** What `s` and `e` act on: an open drill-down list, else the tab's result. */
  const acted = () => drill.current ?? current.current.get(tab) ?? null;

  const openInTrends = useCallback((ref: EventRef) => {
    setTrendsModel((m) => ({ ...m, events: [ref], selected: 0, breakdown: undefined, tableTop: 0 }));
    setTab("trends");
  }, []);

  // The data changed (a live cycle, a sync, an eviction): read the newest event first, then move a
  // `last …` range and start every query again in one render, so each query runs once, on the new
  // data and range; results of queries from before are dropped (`useQuery`).
  const dataChanged = useCallback(() => {
    const refresh = (us?: number | null) => {
      if (us !== undefined) setLatestUs(us);
      client.invalidate();
      setBoundsGen((g) => g + 1);
    };
    const s = sessionRef.current;
    if (!s) return refresh();
    s.lastEventUs().then(refresh, () => refresh());
  }, [client]);
  const sessionRef = useRef(session);
  sessionRef.current = session;

  const live = useLive(session, props.liveEveryMs ?? DEFAULT_LIVE_EVERY_MS, dataChanged, notify);

  const quit = useCallback(() => {
    if (quitting.current) {
      // Again while live mode finishes its batch: leave now, without closing the cache under it.
      if (!exited.current) {
        exited.current = true;
        props.onForceQuit?.();
        props.onQuit?.();
        app.exit();
      }
      return;
    }
    quitting.current = true;
    client.cancelAll();
    if (props.viewsPath) {
      try {
        saveLast(props.cachePath, viewRef.current(true), props.viewsPath);
      } catch {}
    }
    const finish = () => {
      if (exited.current) return;
      exited.current = true;
      closeQuietly(session);
      props.onQuit?.();
      app.exit();
    };
    if (live.active()) {
      setStopping(true);
      live.stop().then(finish, finish);
    } else finish();
  }, [client, session, props.onQuit, props.onForceQuit, app, live, props.viewsPath, props.cachePath]);

  const env = useMemo<AppEnv>(
    () => ({
      session,
      range,
      bounds,
      empty,
      catalog,
      color: props.color ?? false,
      ascii: props.ascii ?? false,
      notify,
      report,
      reportDrill,
      reportSettings,
      reportSelection,
      openInTrends,
      dataChanged,
    }),
    [
      session,
      range,
      bounds,
      empty,
      catalog,
      props.color,
      props.ascii,
      notify,
      report,
      reportDrill,
      reportSettings,
      reportSelection,
      openInTrends,
      dataChanged,
    ],
  );

  // Ctrl+C: cancel what runs (first press), quit (second press, or when idle). Above everything.
  useKeys(
    (input, key) => {
      if (!matches("interrupt", input, key)) return false;
      if (client.busy && !interruptArmed.current) {
        client.cancelAll();
        interruptArmed.current = true;
        notify("cancelled; press Ctrl+C again to quit");
        return true;
      }
      quit();
      return true;
    },
    { priority: PRIORITY.interrupt },
  );

  /** This screen as a saved view (`all`: every tab's settings, for reopening where it was left). */
  function currentView(all = false): SavedView {
    const byTab = {
      events: eventsModel,
      trends: trendsModel,
      funnel: funnelModel,
      retention: retentionModel,
      paths: pathsModel,
      lifecycle: lifecycleModel,
    } as Partial<Record<TabId, object>>;
    const models: SavedView["models"] = {};
    for (const [t, m] of Object.entries(byTab) as [TabId, object][])
      if (all || t === tab) models[t] = settingsOf(t, m);
    const range = userRange
      ? userRange.last !== undefined
        ? { last: userRange.last }
        : { from: userRange.from, to: userRange.to }
      : undefined;
    return {
      tab,
      ...(range ? { range } : {}),
      ...(client.sample !== undefined ? { sample: client.sample } : {}),
      models,
    };
  }

  const viewRef = useRef(currentView);
  viewRef.current = currentView;

  // Back and forward (`backspace`/`[`, `]`): every change of tab or of a screen's settings (a new
  // anchor, a changed step, a filter, a range) is a step of the history; positions come back too.
  const history = useRef<{ entries: { key: string; snap: Snapshot }[]; index: number }>({
    entries: [],
    index: -1,
  });
  const travelling = useRef(false);
  const snapshot = (): Snapshot => ({
    tab,
    userRange,
    models: {
      events: eventsModel,
      trends: trendsModel,
      funnel: funnelModel,
      retention: retentionModel,
      paths: pathsModel,
      lifecycle: lifecycleModel,
    },
  });
  const historyKey = JSON.stringify(currentView(true));
  // biome-ignore lint/correctness/useExhaustiveDependencies: historyKey stands for the whole state
  useEffect(() => {
    const h = history.current;
    if (travelling.current) {
      travelling.current = false;
      if (h.entries[h.index]) h.entries[h.index]!.key = historyKey;
      return;
    }
    if (h.entries[h.index]?.key === historyKey || (seeding.current && h.entries[h.index])) {
      seeding.current = false;
      h.entries[h.index] = { key: historyKey, snap: snapshot() };
      return;
    }
    h.entries = [...h.entries.slice(0, h.index + 1), { key: historyKey, snap: snapshot() }].slice(
      -HISTORY_MAX,
    );
    h.index = h.entries.length - 1;
  }, [historyKey]);
  // The positions of the entry shown follow the cursor, so coming back lands where it was left.
  const latest = history.current.entries[history.current.index];
  if (latest && latest.key === historyKey && !travelling.current) latest.snap = snapshot();

  function travel(d: -1 | 1) {
    const h = history.current;
    const to = h.index + d;
    const e = h.entries[to];
    if (!e) {
      notify(d < 0 ? "no earlier screen" : "no later screen");
      return;
    }
    h.index = to;
    travelling.current = true;
    const m = e.snap.models;
    setEventsModel(m.events);
    setTrendsModel(m.trends);
    setFunnelModel(m.funnel);
    setRetentionModel(m.retention);
    setPathsModel(m.paths);
    setLifecycleModel(m.lifecycle);
    setUserRange(e.snap.userRange);
    setTab(e.snap.tab);
  }

  function openView(v: SavedView) {
    const m = modelsOf(v);
    if (v.models.events) setEventsModel(m.events);
    if (v.models.trends) setTrendsModel(m.trends);
    if (v.models.funnel) setFunnelModel(m.funnel);
    if (v.models.retention) setRetentionModel(m.retention);
    if (v.models.paths) setPathsModel(m.paths);
    if (v.models.lifecycle) setLifecycleModel(m.lifecycle);
    setUserRange(rangeOfView(v));
    // A view keeps its sample (none: exact answers), like its other settings.
    client.setSample(v.sample);
    setTab(v.tab);
  }

  const copy = (what: string, text: string) => {
    try {
      notify(copiedText(what, text, copyText(text, props.clipboard)));
    } catch (e) {
      notify(`copy failed: ${(e as Error).message}`, "error");
    }
  };

  const tabIndex = TABS.findIndex((t) => t.id === tab);
  const goto = (i: number) => {
    setTab(TABS[(i + TABS.length) % TABS.length]!.id);
    interruptArmed.current = false;
  };

  /** The global bindings that would do nothing now: the command palette leaves them out. */
  const globalOff = (): string[] => {
    const h = history.current;
    const c = acted();
    const off: (string | false)[] = [
      !h.entries[h.index - 1] && "history.back",
      !h.entries[h.index + 1] && "history.forward",
      !client.busy && "cancel",
      // Idle, Ctrl+C quits: that is the Quit action.
      !client.busy && "interrupt",
      !(c && (c.result || c.table)) && "export",
      !c?.spec && "copy.command",
      !c?.sql && "copy.sql",
      !props.viewsPath && "view.save",
      (!props.viewsPath || !savedViewCount(props.viewsPath)) && "view.open",
      !live.active() && (!session?.sync || !!session.readOnly) && "live",
    ];
    return off.filter((id): id is string => !!id);
  };

  useKeys(
    (input, key) => {
      if (matches("tab.goto", input, key)) goto(Number(input) - 1);
      else if (matches("tab.next", input, key)) goto(tabIndex + 1);
      else if (matches("tab.prev", input, key)) goto(tabIndex - 1);
      else if (matches("history.back", input, key)) travel(-1);
      else if (matches("history.forward", input, key)) travel(1);
      else if (matches("help", input, key)) setOverlay({ kind: "help" });
      else if (matches("fullText", input, key)) {
        const failure = client.getActivity().failure;
        const shown = current.current.get(tab);
        const text = fullText(
          (drill.current !== null ? selection.current.get("drill") : "") || selection.current.get(tab) || "",
          message?.text ?? lastMessage.current,
          live.state.phase === "off" ? null : (liveText(live.state)?.text ?? null),
          [
            failure ? `${failure.label} failed: ${failure.message}` : "",
            coverageNote(shown?.coverage) ?? "",
            ...(shown?.warnings ?? []),
          ].filter(Boolean),
        );
        if (text) setOverlay({ kind: "text", title: "In full", text });
        else notify("nothing selected and no message yet: z shows a selected row or a message in full");
      } else if (matches("palette", input, key)) {
        // What the screen under it offers now (its panel's, its own, the global bindings).
        const scopes = new Map(actions?.live() ?? []);
        scopes.set("global", new Set(globalOff()));
        const titles = TABS.map((t) => t.title);
        setOverlay({ kind: "palette", actions: paletteActions(scopes, titles, tabIndex) });
      } else if (matches("range", input, key)) setOverlay({ kind: "range" });
      else if (matches("sql", input, key)) setOverlay({ kind: "sql" });
      else if (matches("live", input, key)) live.toggle();
      else if (matches("export", input, key)) {
        const c = acted();
        if (!c || (!c.result && !c.table)) notify("no result yet to export");
        else {
          try {
            const paths = exportResult(c, props.exportDir);
            setOverlay({ kind: "text", title: "Exported", text: `${paths.csv}\n${paths.json}` });
          } catch (e) {
            notify(`export failed: ${(e as Error).message}`, "error");
          }
        }
      } else if (matches("copy.command", input, key)) {
        const c = acted();
        if (!c?.spec)
          notify(tab === "sync" ? "the Sync tab has no analysis to copy" : "no result yet to copy");
        else {
          // As the screen's query runs it: with the sample (`--sample`), so the line gives the same numbers.
          const line = commandLine(client.withIdentity(c.spec), {
            last: userRange?.last,
            source: props.commandSource,
            output: ["--json"],
          });
          copy("the command", line);
        }
      } else if (matches("copy.sql", input, key)) {
        const c = acted();
        if (!c?.sql) notify("no SQL yet to copy");
        else copy("the SQL", (session?.inlineSql ?? inlineParams)(c.sql, c.params ?? []));
      } else if (matches("view.save", input, key)) {
        if (!props.viewsPath) notify("saved views are off here");
        else setOverlay({ kind: "saveView" });
      } else if (matches("view.open", input, key)) {
        if (!props.viewsPath) notify("saved views are off here");
        else {
          try {
            const views = readViews(props.viewsPath).views;
            if (!Object.keys(views).length) notify("no saved views yet: w saves this one");
            else setOverlay({ kind: "openView", views });
          } catch (e) {
            notify((e as Error).message, "error");
          }
        }
      } else if (matches("quit", input, key)) quit();
      else if (matches("rerun", input, key)) {
        client.invalidate();
      } else if (matches("identity", input, key)) {
        client.setIdentity(client.identity === "merged" ? "raw" : "merged");
        notify(
          client.identity === "merged"
            ? "identity merged: counting persons"
            : "identity raw: counting user ids",
        );
      } else if (matches("sample", input, key)) {
        const next = SAMPLE_STEPS[(SAMPLE_STEPS.indexOf(client.sample) + 1) % SAMPLE_STEPS.length];
        client.setSample(next);
        notify(
          next === undefined
            ? "sample off: exact answers"
            : `sample ${sampleText(next)} of users: counts are estimates (≈), scaled ×${Number((1 / next).toFixed(2))}`,
        );
      } else if (matches("cancel", input, key)) {
        if (!client.cancelAll()) return false; // let the screen use esc
        notify("cancelled");
      } else return false;
      return true;
    },
    { priority: PRIORITY.global, isActive: overlay === null },
  );

  const bodyH = Math.max(1, height - 2);
  // Overlays draw over the screen; the screen stays mounted (hidden) so its queries keep running
  // and its state survives.
  let top: ReactNode = null;
  if (overlay?.kind === "help") {
    top = (
      <HelpPanel
        width={width}
        height={bodyH}
        settings={screenSettings.current.get(tab)}
        onClose={() => setOverlay(null)}
      />
    );
  } else if (overlay?.kind === "sql") {
    const c = acted();
    const inline = session?.inlineSql ?? inlineParams;
    const dialect = session?.sqlDialect ? `${session.sqlDialect} ` : "";
    const text = c?.sql
      ? inline(c.sql, c.params ?? [])
      : tab === "sync"
        ? "The Sync tab runs no analysis query."
        : "No result yet: the SQL shows here as soon as the query has run.";
    top = (
      <TextPanel
        title={c?.sql ? `${dialect}SQL of the ${c.title} result (parameters inlined)` : `${dialect}SQL`}
        text={text}
        width={width}
        height={bodyH}
        closeKeys={(i, k) => matches("sql", i, k)}
        onClose={() => setOverlay(null)}
      />
    );
  } else if (overlay?.kind === "text") {
    top = (
      <TextPanel
        title={overlay.title}
        text={overlay.text}
        width={width}
        height={bodyH}
        onClose={() => setOverlay(null)}
      />
    );
  } else if (overlay?.kind === "saveView") {
    top = (
      <TextPrompt
        title="Save this view as"
        width={width}
        help={[`${viewSummary(currentView())}`, `in ${props.viewsPath}`]}
        validate={checkViewName}
        onSubmit={(name) => {
          setOverlay(null);
          try {
            saveView(name, currentView(), props.viewsPath);
            notify(`saved view ${name}: ' opens it, evx ui --view ${name}`);
          } catch (e) {
            notify(`could not save the view: ${(e as Error).message}`, "error");
          }
        }}
        onCancel={() => setOverlay(null)}
      />
    );
  } else if (overlay?.kind === "palette") {
    top = (
      <ListPicker
        title={`Run an action · ${TABS[tabIndex]?.title ?? ""}`}
        items={overlay.actions.map((a) => ({ label: a.label, value: a, hint: a.keys }))}
        width={width}
        height={bodyH}
        empty="no action here"
        footer="type to find · enter run · esc close"
        onPick={(item) => {
          setOverlay(null);
          // Sent as its key: queued behind this Enter, so it reaches the screen once the palette is gone.
          dispatchKey(...item.value.press);
        }}
        onCancel={() => setOverlay(null)}
      />
    );
  } else if (overlay?.kind === "openView") {
    const views = overlay.views;
    top = (
      <ListPicker
        title="Saved views"
        items={Object.keys(views)
          .sort()
          .map((name) => ({ label: name, value: name, hint: viewSummary(views[name]!) }))}
        width={width}
        height={bodyH}
        footer="enter open · esc cancel · evx view rm NAME removes one"
        onPick={(item) => {
          setOverlay(null);
          openView(views[item.value]!);
          notify(`opened view ${item.value}`);
        }}
        onCancel={() => setOverlay(null)}
      />
    );
  } else if (overlay?.kind === "range") {
    top = (
      <DateRangeEditor
        width={width}
        height={bodyH}
        bounds={bounds}
        current={range ? { ...range, last: userRange?.last } : null}
        latestUs={latestUs}
        tz={tz}
        onApply={(r) => {
          setUserRange(
            r.last === undefined && bounds && r.from === bounds.from && r.to === bounds.to ? null : r,
          );
          setOverlay(null);
        }}
        onCancel={() => setOverlay(null)}
      />
    );
  }

  let body: ReactNode = null;
  if (props.failure) {
    body = (
      <Box flexDirection="column">
        {`cannot open the cache: ${props.failure}`.split("\n").map((text) => (
          <Line key={text} text={text} width={width} color="red" />
        ))}
        <Line text="press q to quit" width={width} dim />
      </Box>
    );
  } else if (!session) {
    body = <Line text={openingLine(props.cachePath, width)} width={width} dim />;
  } else if (tab === "events") {
    body = <EventsScreen width={width} height={bodyH} model={eventsModel} setModel={setEventsModel} />;
  } else if (tab === "trends") {
    body = <TrendsScreen width={width} height={bodyH} model={trendsModel} setModel={setTrendsModel} />;
  } else if (tab === "funnel") {
    body = <FunnelScreen width={width} height={bodyH} model={funnelModel} setModel={setFunnelModel} />;
  } else if (tab === "retention") {
    body = (
      <RetentionScreen width={width} height={bodyH} model={retentionModel} setModel={setRetentionModel} />
    );
  } else if (tab === "paths") {
    body = <PathsScreen width={width} height={bodyH} model={pathsModel} setModel={setPathsModel} />;
  } else if (tab === "lifecycle") {
    body = (
      <LifecycleScreen width={width} height={bodyH} model={lifecycleModel} setModel={setLifecycleModel} />
    );
  }
  // The Sync screen stays mounted (hidden) so a running sync survives tab switches.
  const syncVisible = !!session && !props.failure && overlay === null && tab === "sync";

  const events = catalog.data?.events.reduce((a, e) => a + e.events, 0);
  return (
    <AppEnvContext.Provider value={env}>
      <Box flexDirection="column" width={width} height={height} overflow="hidden">
        <TabBar tab={tab} width={width} />
        <Box flexDirection="column" height={bodyH} overflow="hidden">
          {top}
          <Box flexDirection="column" display={top ? "none" : "flex"}>
            {body}
          </Box>
          {session && !props.failure ? (
            session.sync ? (
              <SyncScreen width={width} height={bodyH} visible={syncVisible} />
            ) : session.server ? (
              <ServerTableScreen width={width} height={bodyH} visible={syncVisible} />
            ) : null
          ) : null}
        </Box>
        <StatusBar
          width={width}
          cachePath={props.cachePath}
          where={session?.label}
          whereShort={session?.shortLabels}
          range={range}
          rangeLabel={rangeLabel}
          events={events}
          identity={
            client.identity === "merged" || client.identity !== client.identityDefault
              ? client.identity
              : undefined
          }
          sample={client.sample}
          readOnly={session?.readOnly}
          state={
            stopping
              ? "stopping live sync after the current batch… (q again quits now)"
              : message
                ? message.text
                : session
                  ? undefined
                  : props.failure
                    ? "cache not open"
                    : (props.openingStatus ?? OPENING_STATUS)
          }
          stateTone={!stopping && message ? message.tone : undefined}
          live={stopping ? undefined : live.state}
          ascii={props.ascii}
          coverage={session && !props.failure ? current.current.get(tab)?.coverage : undefined}
          warnings={session && !props.failure ? current.current.get(tab)?.warnings : undefined}
        />
      </Box>
    </AppEnvContext.Provider>
  );
}

/**
 * The `z` panel: the selected row, the status bar's message (or the last one), live mode's line and
 * the status bar's notes (the last failed query, a partial result's missing partitions, warnings),
 * each whole under a heading; "" when there is none.
 */
export function fullText(
  selected: string,
  message: string | null,
  live: string | null,
  status: string[] = [],
): string {
  const parts: string[] = [];
  if (selected) parts.push(`Selected\n${selected}`);
  if (message) parts.push(`Message\n${message}`);
  if (live) parts.push(`Live mode\n${live}`);
  if (status.length) parts.push(`Status\n${status.join("\n")}`);
  return parts.join("\n\n");
}

/** How many views the file holds (a file that cannot be read counts one: `'` then says why). */
function savedViewCount(path: string): number {
  try {
    return Object.keys(readViews(path).views).length;
  } catch {
    return 1;
  }
}

/** How many screens back `backspace` reaches. */
const HISTORY_MAX = 100;

interface Snapshot {
  tab: TabId;
  userRange: RangeChoice | null;
  models: ReturnType<typeof initialModels>;
}

/** The screens' models with a view's settings over the defaults. */
function modelsOf(v: SavedView | undefined): ReturnType<typeof initialModels> {
  const m = initialModels();
  if (!v) return m;
  const over = <T extends object>(base: T, saved: Record<string, unknown> | undefined): T =>
    saved ? { ...base, ...saved } : base;
  return {
    events: over(m.events, v.models.events),
    trends: over(m.trends, v.models.trends),
    funnel: over(m.funnel, v.models.funnel),
    retention: over(m.retention, v.models.retention),
    paths: over(m.paths, v.models.paths),
    lifecycle: over(m.lifecycle, v.models.lifecycle),
  };
}

/** A view's range as the date-range editor's choice (null: all the data). */
function rangeOfView(v: SavedView | undefined): RangeChoice | null {
  const r = v?.range;
  if (!r) return null;
  // A `last …` range is resolved from the newest event once it is known.
  return "last" in r ? { from: "", to: "", last: r.last } : { from: r.from, to: r.to };
}

function TabBar({ tab, width }: { tab: TabId; width: number }) {
  const { labels, sep, help } = tabBarLayout(
    width,
    TABS.findIndex((t) => t.id === tab),
  );
  return (
    <Text wrap="truncate">
      <Text bold color="cyan">
        evx{" "}
      </Text>
      {TABS.map((t, i) => (
        <Text key={t.id}>
          {i > 0 && sep ? sep : ""}
          <Text inverse={t.id === tab} bold={t.id === tab}>
            {labels[i]}
          </Text>
        </Text>
      ))}
      {help ? <Text dimColor>{help}</Text> : null}
    </Text>
  );
}
