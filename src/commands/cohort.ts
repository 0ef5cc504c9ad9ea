/**
 * `evx cohort save|list|show|rm` (docs/semantics.md, "Cohorts"). A behavioural cohort is saved as its
 * definition and re-evaluated over the current data each time an analysis uses it; a static one (from
 * a drill-down's `--save-cohort`) is a saved list of user ids. Both live in the cache (`cohorts`,
 * `cohort_users`).
 */
import { describeCohort, findCohort, type SavedCohort } from "../queries/cohorts.js";
import { Params, withPreludes } from "../queries/filters.js";
import {
  checkCohortName,
  parseDuration,
  parseEventRef,
  parseRangeBound,
  parseZone,
  UsageError,
} from "../queries/parse.js";
import type { CohortCondition, CohortDef, CohortWindow } from "../queries/spec.js";
import { closestNames } from "../queries/suggest.js";
import { frameOf } from "../queries/time.js";
import { cleanText } from "../render/clean.js";
import { fmtInt } from "../render/json.js";
import { parseEngine } from "./analyze.js";
import { cachePathFor } from "./cachepath.js";
import { printJson, termWidth } from "./output.js";

export interface CohortSaveArgs {
  cache?: string;
  engine?: string;
  chUrl?: string;
  chTable?: string;
  name: string;
  did?: string[];
  didNot?: string[];
  atLeast?: number;
  in?: string;
  from?: string;
  to?: string;
  tz?: string;
  json?: boolean;
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/** The definition `save` writes, from its flags (pure: the flags' checks). */
export function cohortDefOf(a: Omit<CohortSaveArgs, "cache" | "name" | "json">): CohortDef {
  const did = list(a.did).map(parseEventRef);
  const not = list(a.didNot).map(parseEventRef);
  if (!did.length && !not.length)
    throw new UsageError("a cohort needs --did EVENT or --did-not EVENT (or both; each repeatable)");
  if (a.atLeast !== undefined && (!Number.isInteger(a.atLeast) || a.atLeast < 1))
    throw new UsageError(`--at-least must be a whole number ≥ 1 (got ${a.atLeast})`);
  if (a.atLeast !== undefined && !did.length) throw new UsageError("--at-least goes with --did");
  let window: CohortWindow | undefined;
  if (a.in !== undefined) {
    if (a.from !== undefined || a.to !== undefined)
      throw new UsageError("--in gives the whole window: use it without --from/--to");
    window = { kind: "last", seconds: parseDuration(a.in) };
  } else if (a.from !== undefined || a.to !== undefined) {
    if (a.from === undefined || a.to === undefined)
      throw new UsageError("a cohort's window needs both --from and --to (or --in D)");
    const range = {
      from: parseRangeBound(a.from, "--from"),
      to: parseRangeBound(a.to, "--to"),
      tz: parseZone(a.tz ?? "UTC"),
    };
    const f = frameOf(range);
    if (f.lo >= f.hi) throw new UsageError(`the window is empty: ${range.from} .. ${range.to}`);
    window = { kind: "range", range };
  }
  const cond = (did: boolean, event: CohortCondition["event"]): CohortCondition => ({
    did,
    event,
    atLeast: did ? (a.atLeast ?? 1) : 1,
    ...(window ? { window } : {}),
  });
  for (const e of [...did, ...not])
    for (const f of e.filters)
      if (f.cohort) throw new UsageError("a cohort's events cannot filter on another cohort");
  return {
    kind: "behavioural",
    conditions: [...did.map((e) => cond(true, e)), ...not.map((e) => cond(false, e))],
  };
}

interface EngineArgs {
  cache?: string;
  engine?: string;
  chUrl?: string;
  chTable?: string;
}

/** Where the cohorts are: the DuckDB cache, or the ClickHouse server (`--engine clickhouse`). */
interface Backend {
  list(): Promise<SavedCohort[]>;
  eventTypes(): Promise<string[]>;
  /** Members now, counted by the same SQL an analysis uses (filters.ts). */
  count(c: SavedCohort): Promise<number>;
  saveBehavioural(name: string, def: CohortDef): Promise<void>;
  remove(name: string): Promise<void>;
  close(): Promise<void>;
}

async function open(a: EngineArgs, write: boolean): Promise<Backend> {
  if (parseEngine(a) === "clickhouse") {
    const { ClickHouseExecutor } = await import("../queries/clickhouse/executor.js");
    const ch = await import("../queries/clickhouse/cohorts.js");
    const { chQueryParams, onTable } = await import("../queries/clickhouse/schema.js");
    const ex = ClickHouseExecutor.open({ chUrl: a.chUrl, chTable: a.chTable });
    await ex.checkSchema();
    return {
      list: () => ch.chCohortStore(ex.client).list(),
      eventTypes: () => ex.eventTypes(),
      async count(c) {
        const p = new Params(undefined, "clickhouse");
        const sql = p.cohortCountSql({ name: c.name, def: c.def });
        const q = withPreludes({ sql, params: p.values });
        const r = await ex.client.rows<{ n: unknown }>(
          onTable(q.sql, ex.target.table),
          chQueryParams(q.params),
        );
        return Number(r[0]?.n ?? 0);
      },
      saveBehavioural: (name, def) => ch.saveBehaviouralCh(ex, name, def),
      remove: (name) => ch.removeCohortCh(ex.client, name),
      close: () => ex.close(),
    };
  }
  const { Cache } = await import("../cache/db.js");
  const store = await import("../cache/cohorts.js");
  const cache = await Cache.open(cachePathFor(a.cache), write ? {} : { readOnly: true });
  return {
    list: () => store.cacheCohortStore(cache).list(),
    eventTypes: async () =>
      (await cache.all<{ e: string }>("SELECT DISTINCT event_type AS e FROM events")).map((x) => x.e),
    async count(c) {
      const p = new Params();
      const q = withPreludes({ sql: p.cohortCountSql({ name: c.name, def: c.def }), params: p.values });
      const r = await cache.all<{ n: unknown }>(q.sql, q.params);
      return Number(r[0]?.n ?? 0);
    },
    async saveBehavioural(name, def) {
      await store.saveBehavioural(cache, name, def);
      // Evaluated once now, so its first use reads the members (src/cache/cohortmemo.ts).
      await (await import("../cache/cohortmemo.js")).refreshCohortMemos(cache, name);
    },
    remove: async (name) => {
      await store.removeCohort(cache, name);
    },
    close: async () => cache.close(),
  };
}

export async function runCohortSave(a: CohortSaveArgs): Promise<void> {
  const name = checkCohortName(a.name, "cohort");
  const def = cohortDefOf(a);
  const b = await open(a, true);
  try {
    if (def.kind === "behavioural") {
      const known = await b.eventTypes();
      for (const c of def.conditions) {
        if (c.event.event === "*" || known.includes(c.event.event)) continue;
        const close = closestNames(c.event.event, known);
        throw new UsageError(
          `unknown event ${JSON.stringify(c.event.event)} in --${c.did ? "did" : "did-not"}${close.length ? `; did you mean ${close.map((x) => JSON.stringify(x)).join(", ")}?` : ""}`,
        );
      }
    }
    await b.saveBehavioural(name, def);
    const saved = findCohort(await b.list(), name);
    const users = await b.count(saved);
    if (a.json) printJson({ name, kind: "behavioural", definition: def, users });
    else
      process.stdout.write(
        `saved cohort ${cleanText(name)}: ${cleanText(describeCohort(def))} (behavioural: re-evaluated on each use; ${fmtInt(users)} users now)\n`,
      );
  } finally {
    await b.close();
  }
}

export async function runCohortList(a: EngineArgs & { json?: boolean }): Promise<void> {
  const b = await open(a, false);
  try {
    const all = await b.list();
    const rows = [];
    for (const c of all) rows.push({ ...c, users: await b.count(c) });
    if (a.json) {
      printJson({
        cohorts: rows.map((c) => ({
          name: c.name,
          kind: c.def.kind,
          definition: c.def,
          users: c.users,
          created: c.created,
        })),
      });
      return;
    }
    if (!rows.length) {
      process.stdout.write("no cohorts saved yet: `evx cohort save NAME --did EVENT`\n");
      return;
    }
    const { textTable } = await import("./drawing.js");
    process.stdout.write(
      textTable(
        [
          { title: "cohort", max: 32 },
          { title: "kind" },
          { title: "users", align: "right" },
          { title: "definition", max: 80 },
        ],
        rows.map((c) => [
          c.name,
          c.def.kind === "static" ? "static list" : "behavioural",
          fmtInt(c.users),
          describeCohort(c.def),
        ]),
        termWidth(),
      ),
    );
  } finally {
    await b.close();
  }
}

export async function runCohortShow(a: EngineArgs & { name: string; json?: boolean }): Promise<void> {
  const b = await open(a, false);
  try {
    const c = findCohort(await b.list(), a.name);
    const users = await b.count(c);
    if (a.json) {
      printJson({ name: c.name, kind: c.def.kind, definition: c.def, users, created: c.created });
      return;
    }
    const kind =
      c.def.kind === "static"
        ? "static: the users saved, whatever the data does since"
        : "behavioural: re-evaluated over the current data on each use";
    process.stdout.write(
      `${cleanText(c.name)} (${kind})\n  ${cleanText(describeCohort(c.def))}\n  ${fmtInt(users)} users now; saved ${c.created}\n`,
    );
  } finally {
    await b.close();
  }
}

export async function runCohortRm(a: EngineArgs & { name: string }): Promise<void> {
  const b = await open(a, true);
  try {
    findCohort(await b.list(), a.name);
    await b.remove(a.name);
    process.stdout.write(`removed cohort ${cleanText(a.name)}\n`);
  } finally {
    await b.close();
  }
}
