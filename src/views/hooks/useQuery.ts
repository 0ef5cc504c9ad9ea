/**
 * Running analysis specs from views. Views never write SQL: they hand a spec to a `QueryClient`,
 * which wraps the session's engine (an `AnalysisEngine`: the cache's `Executor` or `ClickHouseExecutor`,
 * or a fake in tests) and adds what a UI needs:
 * - a small result cache keyed by the spec, so switching tabs does not re-run anything;
 * - a registry of running queries, so the status bar can show a spinner and Esc / Ctrl+C can
 *   cancel whatever runs;
 * - abort that takes effect at once in the UI, even if the engine is still unwinding (the engine gets
 *   the signal: ClickHouse's aborts its HTTP request and kills the query on the server);
 * - the last failure, as one line for the status bar, until a query succeeds again.
 *
 * `useQuery(spec)` runs a spec whenever its content changes: the older request is aborted, and
 * its result is dropped even if it arrives later, so a stale result never replaces a newer one.
 */

import { createContext, useContext, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { SAMPLED_KINDS } from "../../queries/sample.js";
import type { AnalysisSpec, Coverage, ResultOf } from "../../queries/spec.js";
import { cleanText } from "../../render/sanitize.js";

export type { ResultOf };

export interface RunOutput<R = unknown> {
  result: R;
  sql: string;
  params: unknown[];
  ms: number;
  /** What the cache holds of the result's range (the engine always sets it; fakes may not). */
  coverage?: Coverage;
  /** Warning lines about the result (the App adds them: a key none of its events has in range). */
  warnings?: string[];
}

/** The part of the engine's contract the UI runs (`AnalysisEngine.run`, src/queries/engine.ts). */
export interface QueryRunner {
  run(spec: AnalysisSpec, opts?: { signal?: AbortSignal }): Promise<RunOutput<unknown>>;
  /** The data's `--identity` default (`AnalysisEngine.identityDefault`). */
  identityDefault?(): Promise<"merged" | "raw">;
}

export function abortError(message = "query cancelled"): Error {
  const e = new Error(message);
  e.name = "AbortError";
  return e;
}

export function isAbort(e: unknown): boolean {
  return e instanceof Error && e.name === "AbortError";
}

/** JSON with object keys sorted, so equal specs give equal keys. */
export function specKey(spec: unknown): string {
  return JSON.stringify(spec, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export interface Activity {
  /** Queries (and other cancellable work) running now, oldest first. */
  running: { id: number; label: string; started: number }[];
  /** The last finished query. */
  last: { label: string; ms: number; rows?: number } | null;
  /** Bumped when cached data changes (sync, evict); results from before are stale. */
  generation: number;
  /** The last query that failed (not cancelled), until one succeeds or everything runs again. */
  failure: { label: string; message: string } | null;
}

/** The first line of an error's message, cleaned of terminal controls: never a stack trace. */
export function errorText(e: unknown): string {
  const raw = e instanceof Error ? e.message : String(e);
  const line = raw.split(/\r?\n/).find((l) => l.trim()) ?? "";
  return cleanText(line.trim()) || (e instanceof Error ? e.name : "unknown error");
}

const CACHE_LIMIT = 64;

export class QueryClient {
  private results = new Map<string, RunOutput>();
  private jobs = new Map<number, { label: string; started: number; abort: () => void }>();
  private listeners = new Set<() => void>();
  private nextId = 1;
  private snapshot: Activity = { running: [], last: null, generation: 0, failure: null };

  constructor(readonly runner: QueryRunner) {}

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  getActivity = (): Activity => this.snapshot;

  private publish(patch: Partial<Activity> = {}): void {
    this.snapshot = {
      ...this.snapshot,
      ...patch,
      running: [...this.jobs.entries()].map(([id, j]) => ({ id, label: j.label, started: j.started })),
    };
    for (const fn of this.listeners) fn();
  }

  get generation(): number {
    return this.snapshot.generation;
  }

  /**
   * Who a user is for every spec run through this client (docs/semantics.md, "Identity"): set from the
   * data's default when the session opens, toggled by `I`; a spec that names its own keeps it.
   */
  identity: "merged" | "raw" | undefined;
  /** The data's default (the status bar names the mode when it is `merged` or not the default). */
  identityDefault: "merged" | "raw" | undefined;

  /** Sets the identity mode; every screen's query runs again (the results of the other mode stay apart). */
  setIdentity(mode: "merged" | "raw" | undefined): void {
    if (mode === this.identity) return;
    this.identity = mode;
    this.publish({ generation: this.snapshot.generation + 1, failure: null });
  }

  /**
   * The sample every analysis of this client reads (docs/semantics.md, "Sampling"): a rate (0.1) or
   * undefined for all users; `%` cycles it, `--sample` and a saved view set it.
   */
  sample: number | undefined;

  /** Sets the sample; every screen's query runs again. */
  setSample(rate: number | undefined): void {
    if (rate === this.sample) return;
    this.sample = rate;
    this.publish({ generation: this.snapshot.generation + 1, failure: null });
  }

  /**
   * `spec` as this client runs it: with the identity mode, unless it names its own, and with the sample
   * on the analyses it applies to (a drill-down: on its analysis).
   */
  withIdentity<S extends AnalysisSpec>(spec: S): S {
    spec = this.withSample(spec);
    const identity = spec.identity ?? this.identity;
    if (identity === undefined || spec.identity !== undefined) return spec;
    return (
      spec.kind === "users" ? { ...spec, identity, of: { ...spec.of, identity } } : { ...spec, identity }
    ) as S;
  }

  private withSample<S extends AnalysisSpec>(spec: S): S {
    const rate = this.sample;
    if (rate === undefined) return spec;
    const on = (s: AnalysisSpec) =>
      (SAMPLED_KINDS as readonly string[]).includes(s.kind) && !("sample" in s) ? { ...s, sample: rate } : s;
    return (spec.kind === "users" ? { ...spec, of: on(spec.of) } : on(spec)) as S;
  }

  cached(spec: AnalysisSpec): RunOutput | undefined {
    spec = this.withIdentity(spec);
    const key = `${this.snapshot.generation}:${specKey(spec)}`;
    const hit = this.results.get(key);
    if (hit) {
      // refresh LRU position
      this.results.delete(key);
      this.results.set(key, hit);
    }
    return hit;
  }

  /** Forget every result (the cache's data changed). */
  invalidate(): void {
    this.results.clear();
    this.publish({ generation: this.snapshot.generation + 1, failure: null });
  }

  /** Whether any query or job is running. */
  get busy(): boolean {
    return this.jobs.size > 0;
  }

  /** Aborts everything running; true when there was something to cancel. */
  cancelAll(): boolean {
    if (this.jobs.size === 0) return false;
    for (const j of [...this.jobs.values()]) j.abort();
    return true;
  }

  /**
   * Tracks a piece of cancellable work (a query, a listing, a sync) in the activity registry.
   * Returns a function to call when the work ends.
   */
  track(label: string, abort: () => void): () => void {
    const id = this.nextId++;
    this.jobs.set(id, { label, started: performance.now(), abort });
    this.publish();
    return () => {
      if (this.jobs.delete(id)) this.publish();
    };
  }

  /** Runs a spec (from the result cache when possible). Rejects with an AbortError when `signal` fires. */
  async run<S extends AnalysisSpec>(spec: S, signal?: AbortSignal): Promise<RunOutput<ResultOf<S>>> {
    spec = this.withIdentity(spec);
    const hit = this.cached(spec);
    if (hit) return hit as RunOutput<ResultOf<S>>;
    if (signal?.aborted) throw abortError();
    const generation = this.snapshot.generation;
    const inner = new AbortController();
    const onAbort = () => inner.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    let rejectNow: (e: Error) => void = () => {};
    const aborted = new Promise<never>((_, reject) => {
      rejectNow = reject;
    });
    inner.signal.addEventListener("abort", () => rejectNow(abortError()), { once: true });
    const done = this.track(labelOf(spec), () => inner.abort());
    const started = performance.now();
    try {
      const work = this.runner.run(spec, { signal: inner.signal });
      work.catch(() => {}); // an abandoned run must not surface as unhandled
      const out = (await Promise.race([work, aborted])) as RunOutput<ResultOf<S>>;
      const ms = Number.isFinite(out.ms) ? out.ms : performance.now() - started;
      const key = `${generation}:${specKey(spec)}`;
      if (generation === this.snapshot.generation) {
        this.results.set(key, out);
        while (this.results.size > CACHE_LIMIT) this.results.delete(this.results.keys().next().value!);
      }
      this.snapshot = { ...this.snapshot, last: { label: labelOf(spec), ms }, failure: null };
      return out;
    } catch (e) {
      // A failure (not a cancel) of a request still wanted: one line for the status bar.
      if (!isAbort(e) && !inner.signal.aborted && generation === this.snapshot.generation)
        this.snapshot = { ...this.snapshot, failure: { label: labelOf(spec), message: errorText(e) } };
      throw e;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      done();
    }
  }
}

function labelOf(spec: AnalysisSpec): string {
  return spec.kind;
}

export const QueryClientContext = createContext<QueryClient | null>(null);

export function useQueryClient(): QueryClient {
  const c = useContext(QueryClientContext);
  if (!c) throw new Error("useQueryClient outside QueryClientContext");
  return c;
}

/** The client's activity, re-rendering on change. */
export function useActivity(): Activity {
  const c = useQueryClient();
  return useSyncExternalStore(c.subscribe, c.getActivity, c.getActivity);
}

export type QueryStatus = "idle" | "running" | "done" | "error" | "cancelled";

export interface QueryState<R> {
  status: QueryStatus;
  /** The latest result; kept (marked stale by `status`) while a newer one runs. */
  data?: R;
  sql?: string;
  params?: unknown[];
  ms?: number;
  /** Coverage of `data`'s range. */
  coverage?: Coverage;
  /** Warnings about `data` (a property key none of its events has in the range). */
  warnings?: string[];
  error?: Error;
  /** `performance.now()` when the running request started. */
  startedAt?: number;
  /** Spec of `data`. */
  spec?: AnalysisSpec;
  /** Whether `data` answers the spec asked for now. */
  fresh: boolean;
  /** Runs the current spec again (after a cancel or an error). */
  rerun: () => void;
}

/**
 * Runs `spec` through the client whenever its content changes (`null` = nothing to run). Cached
 * results come back without a run. A newer spec aborts the older request; a result that arrives
 * for anything but the newest request is dropped.
 */
export function useQuery<S extends AnalysisSpec>(spec: S | null): QueryState<ResultOf<S>> {
  const client = useQueryClient();
  const key = spec ? specKey(spec) : null;
  const { generation } = useActivity();
  const [nonce, setNonce] = useState(0);
  const seq = useRef(0);
  const [state, setState] = useState<Omit<QueryState<ResultOf<S>>, "rerun" | "fresh"> & { key?: string }>(
    () => {
      const hit = spec ? client.cached(spec) : undefined;
      return hit
        ? {
            status: "done",
            data: hit.result as ResultOf<S>,
            sql: hit.sql,
            params: hit.params,
            ms: hit.ms,
            coverage: hit.coverage,
            warnings: hit.warnings,
            spec: spec!,
            key: key!,
          }
        : { status: "idle" };
    },
  );
  const specRef = useRef(spec);
  specRef.current = spec;

  // biome-ignore lint/correctness/useExhaustiveDependencies: the key stands for the spec's content
  useEffect(() => {
    const current = specRef.current;
    const id = ++seq.current;
    if (!current || !key) {
      setState((s) => (s.status === "idle" && !s.data ? s : { status: "idle" }));
      return;
    }
    const hit = client.cached(current);
    if (hit) {
      setState({
        status: "done",
        data: hit.result as ResultOf<S>,
        sql: hit.sql,
        params: hit.params,
        ms: hit.ms,
        coverage: hit.coverage,
        warnings: hit.warnings,
        spec: current,
        key,
      });
      return;
    }
    const ac = new AbortController();
    setState((s) => ({ ...s, status: "running", error: undefined, startedAt: performance.now() }));
    client.run(current, ac.signal).then(
      (out) => {
        if (seq.current !== id || ac.signal.aborted) return; // stale
        setState({
          status: "done",
          data: out.result,
          sql: out.sql,
          params: out.params,
          ms: out.ms,
          coverage: out.coverage,
          warnings: out.warnings,
          spec: current,
          key,
        });
      },
      (e: unknown) => {
        if (seq.current !== id) return;
        const err = e instanceof Error ? e : new Error(String(e));
        setState((s) => ({ ...s, status: isAbort(err) ? "cancelled" : "error", error: err }));
      },
    );
    return () => ac.abort();
  }, [client, key, generation, nonce]);

  return {
    ...state,
    fresh: state.status === "done" && state.key === key,
    rerun: () => setNonce((n) => n + 1),
  };
}

/** The settings line's tail for a query: ` · running…`, ` · error: …` (red), ` · cancelled …` (yellow). */
export function queryState(q: { status: string; data?: unknown; error?: Error | null }): {
  state: string;
  stateColor: string | undefined;
} {
  if (q.status === "running")
    return { state: q.data ? " · updating…" : " · running…", stateColor: undefined };
  if (q.status === "error") return { state: ` · error: ${q.error?.message ?? ""}`, stateColor: "red" };
  if (q.status === "cancelled") return { state: " · cancelled (ctrl+r reruns)", stateColor: "yellow" };
  return { state: "", stateColor: undefined };
}
