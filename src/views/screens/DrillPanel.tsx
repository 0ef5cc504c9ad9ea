/**
 * The drill-down panel: from a number to the users behind it, and from a user to their events.
 *
 * A screen opens it over itself (Enter on a funnel step or a retention cell, `u` on a trend point). The
 * list is the engine's `UsersSpec` on the same spec as the number (its breakdown, compare and over-time
 * chart aside, as `--users-of`), so its total is exactly that number. `tab` flips the list (reached ↔
 * dropped, retained ↔ lost). Enter opens the selected user's events in time order (`TimelineSpec`),
 * scrollable, with `/` to keep only the lines containing a text. `e` and `s` act on the list shown (it
 * is published with `reportDrill`); `C` saves every user of the list (all of them, not only those
 * listed) as a static cohort under a typed name, through the session. esc goes back, then closes. User
 * ids and property values are data: every one is cleaned before it is drawn, and none is logged.
 */
import { Box } from "ink";
import { memo, useLayoutEffect, useMemo, useState } from "react";
import { UsageError } from "../../queries/errors.js";
import { propValueText } from "../../queries/jsonnumber.js";
import { checkCohortName, formatEventRef } from "../../queries/parse.js";
import type {
  FunnelSpec,
  RetentionSpec,
  TimelineEvent,
  TimelineResult,
  TimelineSpec,
  TrendSpec,
  UsersResult,
  UsersSpec,
} from "../../queries/spec.js";
import { parseUserSelection } from "../../queries/users.js";
import { formatNumber, timeText } from "../../render/format.js";
import { cleanText, displayWidth, padEnd, padStart, sliceColumns, truncate } from "../../render/sanitize.js";
import { PRIORITY, useKeys } from "../hooks/input.js";
import { useActions } from "../hooks/useActions.js";
import { useClipboard } from "../hooks/useClipboard.js";
import { errorText, type QueryState, specKey, useQuery, useQueryClient } from "../hooks/useQuery.js";
import { matches } from "../keymap.js";
import { copiedText, copyText } from "../state/clipboard.js";
import { useAppEnv, useReportSelection } from "../state/state.js";
import { TextPanel } from "../widgets/overlays.js";
import { clamp, HintLine, Line, scrollTop, TextPrompt, typed } from "../widgets/widgets.js";

/** Users listed at most (`total` always counts them all); `e` exports these. */
export const USERS_LIMIT = 1000;
/** Events of a timeline listed at most. */
export const TIMELINE_LIMIT = 2000;

/** One list of users behind a number. */
export interface DrillTarget {
  of: UsersSpec["of"];
  /** As `--users-of` takes it: `reached:2`, `dropped:2`, a bucket start, `COHORT:N` or `COHORT:N:lost`. */
  selection: string;
  /** What the list is: `reached step 2 · file_opened`. */
  title: string;
}

/** The analysis behind a drill-down: its breakdown, compare and over-time chart do not apply. */
export function drillOf(spec: TrendSpec | FunnelSpec | RetentionSpec): UsersSpec["of"] {
  const {
    breakdown: _b,
    compare: _c,
    trendInterval: _t,
    ...rest
  } = spec as typeof spec & { breakdown?: string; compare?: string; trendInterval?: string };
  return rest as UsersSpec["of"];
}

/** The users spec of a target (throws a one-line error for a selection the analysis does not have). */
export function usersSpecOf(t: DrillTarget, limit = USERS_LIMIT): UsersSpec {
  return { kind: "users", of: t.of, select: parseUserSelection(t.selection, t.of), limit, range: t.of.range };
}

/** A funnel's list: users who reached step `step` (1-based), or who dropped there. */
export function funnelTarget(spec: FunnelSpec, step: number, kind: "reached" | "dropped"): DrillTarget {
  const label = cleanText(formatEventRef(spec.steps[step - 1]!));
  const K = spec.steps.length;
  // In any order, reaching step k means doing any k of the steps (docs/semantics.md, "Order").
  const title =
    spec.order === "any"
      ? kind === "reached"
        ? `did any ${step} of ${K} steps`
        : `did any ${step - 1} of ${K} steps, not ${step}`
      : kind === "reached"
        ? `reached step ${step} · ${label}`
        : `dropped at step ${step} · ${label} (reached step ${step - 1}, not ${step})`;
  return { of: drillOf(spec), selection: `${kind}:${step}`, title };
}

/** reached:N ↔ dropped:N (dropped needs N ≥ 2). */
export function flipFunnel(spec: FunnelSpec): (t: DrillTarget) => DrillTarget | string {
  return (t) => {
    const m = /^(reached|dropped):(\d+)$/.exec(t.selection);
    if (!m) return "this list has no other side";
    const step = Number(m[2]);
    if (m[1] === "dropped") return funnelTarget(spec, step, "reached");
    if (step < 2) return "nobody drops at the first step: tab flips from step 2 on";
    return funnelTarget(spec, step, "dropped");
  };
}

/** A retention cell's list: the cohort's users retained at `period`, or the rest of it (`lost`). */
export function retentionTarget(
  spec: RetentionSpec,
  cohort: string,
  cohortLabel: string,
  period: number,
  prefix: string,
  lost: boolean,
): DrillTarget {
  return {
    of: drillOf(spec),
    selection: `${cohort}:${period}${lost ? ":lost" : ""}`,
    title: `cohort ${cohortLabel} · ${prefix}${period} · ${lost ? "lost (not retained)" : "retained"}`,
  };
}

export function flipRetention(
  spec: RetentionSpec,
  cohortLabel: string,
  prefix: string,
): (t: DrillTarget) => DrillTarget | string {
  return (t) => {
    const m = /^(.+):(\d+)(:lost)?$/.exec(t.selection);
    if (!m) return "this list has no other side";
    return retentionTarget(spec, m[1]!, cohortLabel, Number(m[2]), prefix, m[3] === undefined);
  };
}

/** `2023-06-01 14:20:03.123  button_clicked  button_name=save` (cleaned): one event of a timeline. */
export function timelineLine(e: TimelineEvent, tz: string): string {
  const props = Object.entries(e.properties)
    .map(([k, v]) => `${k}=${propValueText(v)}`)
    .join(" ");
  return cleanText(`${timeText(e.event_time, tz, true)}  ${e.event_type}${props ? `  ${props}` : ""}`);
}

/** The lines of a timeline containing `search` (case-insensitive); all of them for an empty search. */
export function filterLines(lines: string[], search: string): string[] {
  return matchingLines(lines, search).map((i) => lines[i]!);
}

/** Indices of the lines containing `search` (case-insensitive); all for an empty search. */
export function matchingLines(lines: string[], search: string): number[] {
  const q = search.trim().toLowerCase();
  const all = lines.map((_, i) => i);
  return q ? all.filter((i) => lines[i]!.toLowerCase().includes(q)) : all;
}

/**
 * One event in full, for the Enter panel: its time, its type, then each property on a line of its own,
 * the value whole (the panel wraps long ones and strips control characters).
 */
export function eventText(e: TimelineEvent, tz: string): string {
  const props = Object.entries(e.properties).map(([k, v]) => `${k} = ${propValueText(v)}`);
  return [
    `time   ${timeText(e.event_time, tz, true)}`,
    `event  ${e.event_type}`,
    ...(props.length ? ["", ...props] : ["", "(no properties)"]),
  ].join("\n");
}

/** Column widths of the users table for a width (the last-seen column goes first when narrow). */
function userColumns(width: number) {
  const fixed = { events: 8, time: 16 };
  const withLast = width - 2 - (fixed.events + 2) - 2 * (fixed.time + 2);
  const last = withLast >= 12;
  const user = Math.max(6, last ? withLast : width - 2 - (fixed.events + 2) - (fixed.time + 2));
  return { user, events: fixed.events, time: fixed.time, last };
}

/** `2023-06-01 14:20` in `tz` (seconds left out: the timeline has them). */
function minuteText(iso: string | null | undefined, tz: string): string {
  return iso ? timeText(iso, tz).slice(0, 16) : "–";
}

function userRowText(u: UsersResult["users"][number], width: number, tz: string): string {
  const c = userColumns(width);
  const cells = [
    padEnd(cleanText(u.user_id), c.user),
    padStart(formatNumber(u.events), c.events),
    padEnd(minuteText(u.first_seen, tz), c.time),
  ];
  if (c.last) cells.push(padEnd(minuteText(u.last_seen, tz), c.time));
  return cells.join("  ");
}

function userHeader(width: number): string {
  const c = userColumns(width);
  const cells = [padEnd("user", c.user), padStart("events", c.events), padEnd("first seen", c.time)];
  if (c.last) cells.push(padEnd("last seen", c.time));
  return `  ${cells.join("  ")}`;
}

const UserRow = memo(function UserRow({
  text,
  selected,
  width,
}: {
  text: string;
  selected: boolean;
  width: number;
}) {
  return <Line text={`${selected ? "›" : " "} ${text}`} width={width} inverse={selected} />;
});

function stateText(
  q: QueryState<unknown>,
  shown: boolean,
  what: string,
): { text: string; color?: string } | null {
  if (q.status === "error") return { text: `error: ${q.error?.message ?? "unknown error"}`, color: "red" };
  if (q.status === "cancelled") return { text: "cancelled (ctrl+r runs it again)", color: "yellow" };
  if (q.status === "running") return { text: shown ? "updating…" : `listing ${what}…` };
  return null;
}

export interface DrillPanelProps {
  width: number;
  height: number;
  target: DrillTarget;
  /** The other side of the list (reached ↔ dropped, retained ↔ lost), or why there is none. */
  flip?: (t: DrillTarget) => DrillTarget | string;
  onClose: () => void;
}

export function DrillPanel({ width, height, target: initial, flip, onClose }: DrillPanelProps) {
  const env = useAppEnv();
  const clipboard = useClipboard();
  const [target, setTarget] = useState(initial);
  const [user, setUser] = useState<string | null>(null);
  const [cursor, setCursor] = useState(0);
  const [top, setTop] = useState(0);
  const [tlTop, setTlTop] = useState(0);
  /** The selected line of the timeline (among the lines shown); Enter opens its event in full. */
  const [tlCursor, setTlCursor] = useState(0);
  /** Columns of the timeline scrolled off to the left (←/→). */
  const [tlLeft, setTlLeft] = useState(0);
  /** The event open in full (an index into the timeline's events), or null. */
  const [full, setFull] = useState<number | null>(null);
  const [search, setSearch] = useState("");
  const [editing, setEditing] = useState(false);
  /** The `C` prompt is open. */
  const [naming, setNaming] = useState(false);
  const client = useQueryClient();
  const tz = target.of.range.tz;

  const built = useMemo((): { spec: UsersSpec | null; error?: string } => {
    try {
      return { spec: usersSpecOf(target) };
    } catch (e) {
      return { spec: null, error: (e as Error).message };
    }
  }, [target]);
  const users = useQuery(built.spec);
  const tlSpec = useMemo<TimelineSpec | null>(
    () =>
      user === null
        ? null
        : { kind: "timeline", user, range: target.of.range, events: [], limit: TIMELINE_LIMIT },
    [user, target],
  );
  const tl = useQuery(tlSpec);

  // A list is shown only under its own title: after a flip the previous list is not this one (while a
  // refresh of the same list runs, its last answer stays on screen).
  const usersData =
    users.data && built.spec && users.spec && specKey(users.spec) === specKey(built.spec)
      ? (users.data as UsersResult)
      : undefined;
  const list = usersData?.users ?? [];
  const timeline =
    tl.data && tlSpec && tl.spec && specKey(tl.spec) === specKey(tlSpec)
      ? (tl.data as TimelineResult)
      : undefined;

  // `e` and `s` act on the list shown; until it is in, they say there is nothing yet.
  const shown: QueryState<unknown> = user === null ? users : tl;
  const shownData = user === null ? usersData : timeline;
  const title = user === null ? `Users · ${target.title}` : `Timeline of ${cleanText(user)}`;
  const { reportDrill } = env;
  useLayoutEffect(() => {
    reportDrill(
      shownData
        ? {
            title,
            spec: shown.spec,
            result: shownData,
            sql: shown.sql,
            params: shown.params,
            coverage: shown.coverage,
          }
        : { title },
    );
  }, [reportDrill, title, shownData, shown.spec, shown.sql, shown.params, shown.coverage]);
  useLayoutEffect(() => () => reportDrill(null), [reportDrill]);

  const listH = Math.max(1, height - 4);
  const cur = clamp(cursor, 0, Math.max(0, list.length - 1));
  const first = scrollTop(top, cur, listH, list.length);

  const allLines = useMemo(
    () => (timeline ? timeline.events.map((e) => timelineLine(e, tz)) : []),
    [timeline, tz],
  );
  const lineIdx = useMemo(() => matchingLines(allLines, search), [allLines, search]);
  const lines = useMemo(() => lineIdx.map((i) => allLines[i]!), [lineIdx, allLines]);
  const tlH = Math.max(1, height - 3);
  const tlMax = Math.max(0, lines.length - tlH);
  const tlCur = clamp(tlCursor, 0, Math.max(0, lines.length - 1));
  const tlFirst = scrollTop(clamp(tlTop, 0, tlMax), tlCur, tlH, lines.length);
  // Horizontal scroll: as far as the widest line shown needs.
  const widest = useMemo(
    () => Math.max(0, ...lines.slice(tlFirst, tlFirst + tlH).map(displayWidth)),
    [lines, tlFirst, tlH],
  );
  const leftMax = Math.max(0, widest - width + 1);
  const left = clamp(tlLeft, 0, leftMax);

  // `z`: the selected user (a long id is cut in the list), or the selected timeline line, whole.
  const selUser = list[cur];
  useReportSelection(
    "drill",
    user !== null
      ? (lines[tlCur] ?? "")
      : selUser
        ? cleanText(
            `user ${selUser.user_id}\n${formatNumber(selUser.events)} events · first seen ${minuteText(selUser.first_seen, tz)} · last seen ${minuteText(selUser.last_seen, tz)}`,
          )
        : "",
  );

  /**
   * Saves the list shown (its spec as the client ran it, every user whatever the limit) as the static
   * cohort `name`; the status bar says how many, or why not (a bad or taken name, a read-only cache).
   */
  const saveCohort = (name: string) => {
    setNaming(false);
    const save = env.session?.saveCohort;
    if (!save || !usersData || !built.spec) return;
    // A bad or taken name says so itself (the status bar is narrow); anything else says what failed.
    const failed = (e: unknown) =>
      env.notify(e instanceof UsageError ? errorText(e) : `cohort not saved: ${errorText(e)}`, "error");
    try {
      checkCohortName(name, "cohort");
    } catch (e) {
      failed(e);
      return;
    }
    const total = usersData.total;
    const users = (n: number) => `${formatNumber(n)} user${n === 1 ? "" : "s"}`;
    env.notify(`saving ${users(total)} as cohort ${name}…`);
    save(name, client.withIdentity(built.spec)).then(
      (n) =>
        n === total
          ? env.notify(`saved ${users(n)} as cohort ${name}`)
          : env.notify(
              `saved ${users(n)} as cohort ${name}, but the list counts ${formatNumber(total)}: the data changed since it ran`,
              "error",
            ),
      failed,
    );
  };

  useKeys(
    (input, key) => {
      if (editing) {
        if (key.escape) {
          setSearch("");
          setEditing(false);
        } else if (key.return) setEditing(false);
        else if (key.backspace || key.delete) setSearch((t) => [...t].slice(0, -1).join(""));
        else {
          const t = typed(input, key);
          if (t) {
            setSearch((x) => x + t);
            setTlTop(0);
            setTlCursor(0);
          }
        }
        return true;
      }
      if (matches("drill.back", input, key)) {
        if (user !== null) {
          setUser(null);
          setSearch("");
        } else onClose();
        return true;
      }
      const page = user === null ? listH : tlH;
      const move = (d: number, paging = false) => {
        if (user === null) {
          const next = clamp(cur + d, 0, Math.max(0, list.length - 1));
          setCursor(next);
          setTop(scrollTop(first, next, listH, list.length));
        } else {
          // The selected line moves; a page moves the view with it (as `less` does).
          const next = clamp(tlCur + d, 0, Math.max(0, lines.length - 1));
          const view = paging ? clamp(tlFirst + d, 0, tlMax) : tlFirst;
          setTlCursor(next);
          setTlTop(scrollTop(view, next, tlH, lines.length));
        }
      };
      const across = (d: number) => {
        if (user === null) env.notify("←/→ scroll a timeline; z shows the selected user in full");
        else setTlLeft(clamp(left + d * Math.max(8, Math.floor(width / 2)), 0, leftMax));
      };
      if (matches("drill.left", input, key)) across(-1);
      else if (matches("drill.right", input, key)) across(1);
      else if (matches("drill.up", input, key)) move(-1);
      else if (matches("drill.down", input, key)) move(1);
      else if (matches("drill.pageUp", input, key)) move(-page, true);
      else if (matches("drill.pageDown", input, key)) move(page, true);
      else if (matches("drill.first", input, key)) move(-Number.MAX_SAFE_INTEGER);
      else if (matches("drill.last", input, key)) move(Number.MAX_SAFE_INTEGER);
      else if (matches("drill.copy", input, key)) {
        const id = user ?? list[cur]?.user_id;
        if (id === undefined || !clipboard) env.notify("no user to copy");
        else {
          try {
            env.notify(copiedText("the user id", id, copyText(id, clipboard)));
          } catch (e) {
            env.notify(`copy failed: ${(e as Error).message}`, "error");
          }
        }
      } else if (matches("drill.open", input, key)) {
        if (user !== null) {
          // On a timeline: the selected event in full.
          const i = lineIdx[tlCur];
          if (i !== undefined && timeline?.events[i]) setFull(i);
          return true;
        }
        const u = list[cur];
        if (u) {
          setUser(u.user_id);
          setTlTop(0);
          setTlCursor(0);
          setTlLeft(0);
          setSearch("");
        }
      } else if (matches("drill.flip", input, key)) {
        if (user !== null) return true;
        const other = flip
          ? flip(target)
          : "tab flips a funnel's reached/dropped and a retention cell's retained/lost";
        if (typeof other === "string") env.notify(other);
        else {
          setTarget(other);
          setCursor(0);
          setTop(0);
        }
      } else if (matches("drill.cohort", input, key)) {
        if (user !== null) env.notify("esc back to the list to save its users as a cohort");
        else if (!env.session?.saveCohort) env.notify("this session cannot save cohorts");
        else if (!usersData || !built.spec) env.notify("no users to save yet: wait for the list");
        else setNaming(true);
      } else if (matches("drill.search", input, key)) {
        if (user === null) env.notify("open a user's timeline (enter) to search it");
        else setEditing(true);
      } else return false;
      return true;
    },
    { priority: PRIORITY.panel, modal: editing, isActive: full === null },
  );
  // For the command palette: what these keys would do nothing for now.
  useActions(
    "drill",
    [
      (user !== null || !flip) && "drill.flip",
      (user === null || leftMax === 0) && "drill.left",
      (user === null || leftMax === 0) && "drill.right",
      user === null && "drill.search",
      (user !== null ? lineIdx[tlCur] === undefined : !list[cur]) && "drill.open",
      (user !== null || !usersData || !env.session?.saveCohort) && "drill.cohort",
      ((user ?? list[cur]?.user_id) === undefined || !clipboard) && "drill.copy",
    ],
    !editing && full === null,
  );

  if (user !== null && full !== null && timeline?.events[full]) {
    const e = timeline.events[full]!;
    return (
      <TextPanel
        title={`Event ${full + 1} of ${formatNumber(timeline.events.length)} · ${cleanText(user)}`}
        text={eventText(e, tz)}
        width={width}
        height={height}
        onClose={() => setFull(null)}
      />
    );
  }

  if (user !== null) {
    const state = stateText(tl, !!timeline, "events");
    const total = timeline?.total ?? 0;
    const head = timeline
      ? `${formatNumber(total)} event${total === 1 ? "" : "s"}${timeline.events.length < total ? ` · the first ${formatNumber(timeline.events.length)}` : ""}`
      : "";
    const searchLine = editing
      ? `/ ${search}▏  (enter keeps it · esc clears)`
      : search
        ? `search "${cleanText(search)}": ${formatNumber(lines.length)} of ${formatNumber(allLines.length)} lines · / edits it`
        : "/ search";
    return (
      <Box flexDirection="column" width={width} height={height}>
        <Line
          text={`${title} · ${head}${state ? ` · ${state.text}` : ""}`}
          width={width}
          bold
          color={state?.color}
        />
        <Line text={searchLine} width={width} color={editing ? "cyan" : undefined} dim={!editing} />
        <Box flexDirection="column" height={tlH} overflow="hidden">
          {timeline && lines.length === 0 ? (
            <Line
              text={search ? "no line contains that text" : "no events of this user in the range"}
              width={width}
              dim
            />
          ) : (
            // Keyed by the event's place in the timeline (a search keeps some of them).
            lineIdx
              .slice(tlFirst, tlFirst + tlH)
              .map((ev, i) => (
                <Line
                  key={ev}
                  text={left > 0 ? `‹${sliceColumns(allLines[ev]!, left + 1, width)}` : allLines[ev]!}
                  width={width}
                  inverse={tlFirst + i === tlCur}
                />
              ))
          )}
        </Box>
        <HintLine
          ids={["drill.open", "drill.search", "export", "sql", "drill.back"]}
          width={width}
          extra={
            [
              lines.length > tlH
                ? `↑↓ lines ${tlFirst + 1}-${Math.min(lines.length, tlFirst + tlH)} of ${lines.length}`
                : "",
              leftMax > 0 ? `←→ columns ${left + 1}-${Math.min(widest, left + width)} of ${widest}` : "",
            ]
              .filter(Boolean)
              .join(" · ") || undefined
          }
        />
      </Box>
    );
  }

  const state = built.error ? { text: built.error, color: "red" } : stateText(users, !!usersData, "users");
  const data = usersData;
  const count = data
    ? `${formatNumber(data.total)} user${data.total === 1 ? "" : "s"}${data.users.length < data.total ? ` · the first ${formatNumber(data.users.length)} by user id` : ""}`
    : "";
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Line text={truncate(title, width)} width={width} bold />
      <Line
        text={[count, state?.text].filter(Boolean).join(" · ") || " "}
        width={width}
        color={state?.color}
      />
      <Line text={userHeader(width)} width={width} dim />
      <Box flexDirection="column" height={listH} overflow="hidden">
        {naming && data ? (
          // The prompt in the list's place (the panel keeps its title and total above it).
          <TextPrompt
            title={`Save the ${formatNumber(data.total)} user${data.total === 1 ? "" : "s"} of this list as the cohort`}
            width={width}
            help={[
              "a static cohort: these users, whatever the data does later",
              "use it in a filter as cohort=NAME (headless: --where cohort=NAME)",
            ]}
            onSubmit={saveCohort}
            onCancel={() => setNaming(false)}
          />
        ) : (
          <>
            {data && list.length === 0 ? <Line text="nobody" width={width} dim /> : null}
            {list.slice(first, first + listH).map((u, i) => (
              <UserRow
                key={u.user_id}
                text={userRowText(u, Math.max(1, width - 2), tz)}
                selected={first + i === cur}
                width={width}
              />
            ))}
          </>
        )}
      </Box>
      <HintLine
        ids={["drill.open", "drill.flip", "export", "sql", "drill.back", "drill.cohort"]}
        width={width}
        extra={list.length > listH ? `${cur + 1} of ${formatNumber(list.length)}` : undefined}
      />
    </Box>
  );
}
