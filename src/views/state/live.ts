/**
 * Live mode (`L`): the TUI syncs the cache's source on a timer, with the loop `evx sync --watch` runs
 * (src/cache/watch.ts: the newest dates of the source, every `--every`), in this process. After a cycle
 * that changed the data, the App refreshes: `last …` ranges move to the newest event, every query runs
 * again (a result from before the refresh is dropped), and the status bar says what the cycle did. A
 * cycle that fails is shown there too and the data on screen stays as it was (k9s-style); the next
 * cycle retries. Turning it off, or quitting, stops after the current batch commits.
 *
 * When another process holds the cache's writer (shared mode: `evx sync --watch`, a sync, another TUI's
 * live mode), live mode follows it instead: it shows that writer's cycles and refreshes when it commits
 * (the host counts the commits), and runs cycles of its own only once that writer has gone.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import type { SyncProgress } from "../../cache/sync.js";
import type { WatchCycle } from "../../cache/watch.js";
import { formatNumber } from "../../render/format.js";
import { cleanText } from "../../render/sanitize.js";
import type { FollowedWriter, Session } from "./state.js";

/** `--every` when `evx ui` is not given one (as `evx sync --watch`). */
export const DEFAULT_LIVE_EVERY_MS = 60_000;

export type LivePhase = "off" | "syncing" | "waiting" | "stopping";

export interface LiveCycle {
  /** When the cycle began. */
  at: Date;
  /** Events it ingested, objects it downloaded and removed. */
  events: number;
  objects: number;
  removed: number;
  /** One line when it failed (as a whole, or some objects). */
  error?: string;
  failedWhole: boolean;
}

export interface LiveState {
  phase: LivePhase;
  /** The last finished cycle, null before the first one ends. */
  last: LiveCycle | null;
  /** When the next cycle begins (epoch ms), while waiting. */
  nextAt: number | null;
  /** The running cycle's progress. */
  progress: SyncProgress | null;
  everyMs: number;
  /**
   * Shared mode: another process holds the cache's writer (`evx sync --watch`, a sync, another TUI's
   * live mode), and live mode follows its cycles instead of running its own; `last` and `nextAt` are
   * the ones it announced. Null while this process runs the cycles.
   */
  following?: { pid: number; what: string } | null;
}

export const LIVE_OFF: LiveState = {
  phase: "off",
  last: null,
  nextAt: null,
  progress: null,
  everyMs: DEFAULT_LIVE_EVERY_MS,
};

/** `42s`, `4m 05s`: the time to the next cycle. */
function untilText(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 120) return `${s}s`;
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
}

function clockText(d: Date): string {
  return d.toLocaleTimeString("en-GB", { hour12: false });
}

const plural = (n: number, word: string) => `${formatNumber(n)} ${word}${n === 1 ? "" : "s"}`;

/**
 * The status bar's live segment: `live · +1,234 events at 14:45:03 · next in 42s`, the cycle's error
 * instead when it failed (tone `error`; `warn` when only some objects failed), `live · syncing 3/10
 * objects…` while a cycle runs. Null when live mode is off.
 */
export function liveText(
  s: LiveState,
  now = Date.now(),
): { text: string; tone: "ok" | "warn" | "error" } | null {
  if (s.phase === "off") return null;
  if (s.phase === "stopping") return { text: "live · stopping after the current batch…", tone: "warn" };
  const parts = ["live"];
  if (s.following) parts.push(`following evx ${cleanText(s.following.what)} (PID ${s.following.pid})`);
  let tone: "ok" | "warn" | "error" = "ok";
  const last = s.last;
  if (last) {
    const error = last.error ? cleanText(last.error) : undefined;
    if (last.failedWhole) {
      parts.push(`${clockText(last.at)} failed: ${error ?? "unknown error"}`);
      tone = "error";
    } else {
      parts.push(
        `+${plural(last.events, "event")} at ${clockText(last.at)}${last.removed ? ` (−${plural(last.removed, "object")})` : ""}`,
      );
      if (error) {
        parts.push(error);
        tone = "warn";
      }
    }
  }
  if (s.phase === "syncing") {
    const p = s.progress;
    parts.push(
      p && p.phase !== "listing" && p.toFetch > 0
        ? `syncing ${formatNumber(p.ingested + p.failed)}/${plural(p.toFetch, "object")}…`
        : "syncing…",
    );
  } else if (s.nextAt !== null) {
    parts.push(`${last?.failedWhole ? "retry" : "next"} in ${untilText(s.nextAt - now)}`);
  }
  return { text: parts.join(" · "), tone };
}

export interface Live {
  state: LiveState;
  /** Starts live mode, or stops it (after the current batch). */
  toggle(): void;
  /** Stops live mode; resolves when the loop has ended (the current batch committed). */
  stop(): Promise<void>;
  /** Whether a loop is running (or still winding down). */
  active(): boolean;
}

/**
 * Runs live mode's loop on `session` while on. `onData` is called after each cycle that added or
 * removed data; `notify` gets one-line messages (why it cannot start, that it stopped).
 */
export function useLive(
  session: Session | null,
  everyMs: number,
  onData: () => void,
  notify: (text: string, tone?: "info" | "error") => void,
): Live {
  const [state, setState] = useState<LiveState>({ ...LIVE_OFF, everyMs });
  const run = useRef<{ ac: AbortController; done: Promise<void> } | null>(null);
  const onDataRef = useRef(onData);
  onDataRef.current = onData;
  const notifyRef = useRef(notify);
  notifyRef.current = notify;

  const start = useCallback(() => {
    if (!session || run.current) return;
    const sync = session.sync;
    if (!sync) {
      notifyRef.current(session.syncRefused ?? "live mode needs a local cache", "error");
      return;
    }
    if (session.readOnly) {
      notifyRef.current(
        `live mode needs the cache read-write; another evx process${session.lockedBy ? ` (PID ${session.lockedBy})` : ""} holds it`,
        "error",
      );
      return;
    }
    const ac = new AbortController();
    setState({ ...LIVE_OFF, everyMs, phase: "syncing" });
    const onCycle = (c: WatchCycle) => {
      const cycle: LiveCycle = {
        at: c.at,
        events: c.summary.events,
        objects: c.summary.objects.downloaded,
        removed: c.summary.objects.removed,
        error: c.error,
        failedWhole: c.failedWhole,
      };
      setState((s) => ({
        ...s,
        phase: s.phase === "stopping" ? "stopping" : c.nextAt ? "waiting" : s.phase,
        // An interrupted cycle's counts are partial; the last complete cycle stays on show.
        last: c.interrupted ? s.last : cycle,
        nextAt: c.nextAt ? c.nextAt.getTime() : null,
        progress: null,
      }));
      if (c.summary.events > 0 || c.summary.objects.removed > 0 || c.summary.objects.downloaded > 0)
        onDataRef.current();
    };
    const onFollow = (f: FollowedWriter | null, changed: boolean) => {
      const last = f?.note?.last;
      setState((s) =>
        s.phase === "stopping"
          ? s
          : f
            ? {
                ...s,
                following: { pid: f.pid, what: f.what },
                // A writer that announces nothing (a one-off sync) is syncing until it goes.
                phase: !f.note || f.note.syncing ? "syncing" : "waiting",
                last: last
                  ? {
                      at: new Date(last.at),
                      events: last.events,
                      objects: last.objects,
                      removed: last.removed,
                      error: last.error,
                      failedWhole: last.failedWhole,
                    }
                  : s.last,
                nextAt: f.note && !f.note.syncing ? f.note.nextAt : null,
                progress: null,
              }
            : { ...s, following: null, phase: "syncing", nextAt: null, progress: null },
      );
      if (changed) onDataRef.current();
    };
    const done = sync
      .watch({
        everyMs,
        signal: ac.signal,
        onCycle,
        onFollow,
        onProgress: (p) =>
          setState((s) =>
            s.phase === "stopping" ? s : { ...s, phase: "syncing", progress: p, nextAt: null },
          ),
      })
      .then(
        () => {},
        (e: unknown) => {
          if (!ac.signal.aborted)
            notifyRef.current(`live mode: ${(e as Error).message ?? String(e)}`, "error");
        },
      )
      .finally(() => {
        if (run.current?.ac === ac) run.current = null;
        setState((s) => ({ ...s, phase: "off", nextAt: null, progress: null }));
      });
    run.current = { ac, done };
  }, [session, everyMs]);

  const stop = useCallback((): Promise<void> => {
    const r = run.current;
    if (!r) return Promise.resolve();
    if (!r.ac.signal.aborted) {
      r.ac.abort();
      setState((s) => (s.phase === "off" ? s : { ...s, phase: "stopping", nextAt: null }));
    }
    return r.done;
  }, []);

  // The status bar's live segment is the feedback: it appears, and goes once the loop has ended.
  const toggle = useCallback(() => {
    if (run.current) void stop();
    else start();
  }, [start, stop]);

  // Unmounted without a quit (tests): stop the loop; it ends after the current batch.
  useEffect(() => () => run.current?.ac.abort(), []);

  return { state, toggle, stop, active: () => run.current !== null };
}
