/**
 * ClickHouse inlines a CTE at every reference, so a CTE read twice is computed twice: a funnel's time to
 * convert read its per-user rows 4 times (4.0× the statement with materialized CTEs on the 4M bench
 * table), trends their per-bucket counts 1.35-1.85×. ClickHouse 26.3 and later evaluate a CTE written
 * `AS MATERIALIZED` once, into a temporary table, under `enable_materialized_cte = 1` (experimental there:
 * a statement it fails is sent again inlined, see the executor).
 *
 * Only CTEs whose rows are already aggregated are materialized: a CTE read twice that still holds one
 * row per event (the events of the range, their buckets) would be stored whole in memory, which at the
 * seed's 8B events is what inlining avoids by streaming it twice. A CTE counts as aggregated when its
 * own SELECT (outside any subquery) groups (`GROUP BY`, `SELECT DISTINCT`) by keys other than an
 * event's instant (the builders' `t`: rows per user and instant are rows per event), or when
 * everything it reads is aggregated CTEs (a window over per-user rows, a filter of them, one row of
 * totals over them). Such a table
 * holds no more rows than the aggregation that made it already held in memory.
 *
 * The answer is the same either way (evx's statements are deterministic; the cross-checks run both
 * engines with it on, since chdb has it); it is speed only. Not on a Distributed table: there a
 * subquery may run on each shard, where the initiator's temporary table is not.
 */

/** The setting that lets `AS MATERIALIZED` take effect. */
export const MATERIALIZED_CTE_SETTING = "enable_materialized_cte";

/** Whether a server of `version` (`version()`, e.g. `26.7.2.1`) has materialized CTEs: 26.3 and later. */
export function materializesCtes(version: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 26 || (major === 26 && minor >= 3);
}

interface Cte {
  name: string;
  /** Index of the name in the statement. */
  at: number;
  /** The text between the CTE's parentheses. */
  body: string;
  /** Index just past its closing parenthesis. */
  end: number;
}

/** Index just past the quoted text that starts at `at` (a doubled or backslashed quote stays inside). */
function pastQuote(sql: string, at: number): number {
  const q = sql[at];
  for (let i = at + 1; i < sql.length; i++) {
    if (sql[i] === "\\") i++;
    else if (sql[i] === q) {
      if (sql[i + 1] !== q) return i + 1;
      i++;
    }
  }
  return sql.length;
}

const isQuote = (ch: string) => ch === "'" || ch === "`" || ch === '"';

/** Index just past the parenthesis that closes the one at `open`; skips quoted text. */
function closing(sql: string, open: number): number {
  let depth = 0;
  for (let i = open; i < sql.length; ) {
    const ch = sql[i];
    if (isQuote(ch)) {
      i = pastQuote(sql, i);
      continue;
    }
    if (ch === "(") depth++;
    else if (ch === ")" && --depth === 0) return i + 1;
    i++;
  }
  return sql.length;
}

/** The statement's top-level CTEs, as the builders write them (`WITH a AS (…),\nb AS (…)`). */
function ctesOf(sql: string): Cte[] {
  const out: Cte[] = [];
  const head = /^WITH\s+/i.exec(sql);
  if (!head) return out;
  let i = head[0].length;
  for (;;) {
    const m = /^(\w+) AS \(/.exec(sql.slice(i));
    if (!m) return out;
    const open = i + m[0].length - 1;
    const end = closing(sql, open);
    out.push({ name: m[1], at: i, body: sql.slice(open + 1, end - 1), end });
    const sep = /^\s*,\s*/.exec(sql.slice(end));
    if (!sep) return out;
    i = end + sep[0].length;
  }
}

/** `body` with every parenthesised part and quoted text blanked: what is left is its own SELECT. */
function topLevel(body: string): string {
  let out = "";
  for (let i = 0; i < body.length; ) {
    if (body[i] === "(" || isQuote(body[i])) {
      i = body[i] === "(" ? closing(body, i) : pastQuote(body, i);
      out += " ";
    } else out += body[i++];
  }
  return out;
}

/**
 * Whether the SELECT `text` yields aggregated rows: its own level groups (and is no UNION, whose
 * branches may differ), or everything its own level reads (after FROM or JOIN) is an aggregated CTE
 * or a subquery that is itself aggregated.
 */
function isAggregated(text: string, aggregated: ReadonlySet<string>): boolean {
  const own = topLevel(text);
  if (!/\bUNION\b/i.test(own)) {
    const by = /\bGROUP\s+BY\b/i.exec(own);
    const distinct = /^\s*SELECT\s+DISTINCT\b/i.test(own);
    const keys = by ? own.slice(by.index) : distinct ? own.slice(0, own.search(/\bFROM\b/i)) : null;
    if (keys !== null && !/\bt\b/.test(keys)) return true;
  }
  const reads: boolean[] = [];
  for (const m of text.matchAll(/\b(?:FROM|JOIN)\s+(\(|\w+)/gi)) {
    const at = m.index ?? 0;
    if (!atTopLevel(text, at)) continue;
    if (m[1] === "(") {
      const open = at + m[0].length - 1;
      reads.push(isAggregated(text.slice(open + 1, closing(text, open) - 1), aggregated));
    } else reads.push(aggregated.has(m[1]));
  }
  return reads.length > 0 && reads.every(Boolean);
}

/** Whether index `at` of `text` is outside every parenthesis and quote. */
function atTopLevel(text: string, at: number): boolean {
  for (let i = 0; i < at; ) {
    if (text[i] === "(" || isQuote(text[i])) {
      i = text[i] === "(" ? closing(text, i) : pastQuote(text, i);
      if (i > at) return false;
    } else i++;
  }
  return true;
}

/**
 * `sql` with each aggregated CTE that is referenced more than once written `AS MATERIALIZED` (see the
 * module comment); `count` says how many, and the caller adds `enable_materialized_cte = 1` to the
 * statement's settings when it is not 0.
 */
export function materializeShared(sql: string): { sql: string; count: number } {
  const ctes = ctesOf(sql);
  if (ctes.length < 2) return { sql, count: 0 };
  const aggregated = new Set<string>();
  for (const c of ctes) if (isAggregated(c.body, aggregated)) aggregated.add(c.name);
  // References: the name read as a table (FROM, JOIN, IN) after its own definition.
  const chosen = ctes.filter((c) => {
    if (!aggregated.has(c.name)) return false;
    const rest = sql.slice(c.end);
    return (rest.match(new RegExp(`\\b(?:FROM|JOIN|IN)\\s+${c.name}\\b`, "gi"))?.length ?? 0) >= 2;
  });
  if (!chosen.length) return { sql, count: 0 };
  let out = sql;
  // From the last to the first, so earlier indexes stay valid.
  for (const c of [...chosen].reverse()) {
    const head = `${c.name} AS (`;
    out = `${out.slice(0, c.at)}${c.name} AS MATERIALIZED (${out.slice(c.at + head.length)}`;
  }
  return { sql: out, count: chosen.length };
}
