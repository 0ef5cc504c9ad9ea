import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { PRESET_NAMES } from "./cache/presets.js";
import { EXIT, ExitError, errorLine, exitCodeFor, UsageError } from "./commands/errors.js";
import { versionLine } from "./version.js";

const cacheOpt = {
  cache: { type: "string", describe: "cache file (default: $EVX_CACHE, else the last one used)" },
} as const;
const outOpts = {
  json: { type: "boolean", describe: "print JSON for scripts" },
  csv: { type: "boolean", describe: "print CSV" },
} as const;

const chOpts = {
  "ch-url": {
    type: "string",
    describe:
      "ClickHouse HTTP(S) URL, https://user@host:8443/database (default $EVX_CLICKHOUSE_URL; password: $EVX_CLICKHOUSE_PASSWORD)",
  },
  "ch-table": { type: "string", describe: "ClickHouse events table (default events)" },
} as const;
const engineOpts = {
  engine: {
    type: "string",
    choices: ["duckdb", "clickhouse"],
    describe: "where the analysis runs: the local DuckDB cache (default) or a ClickHouse server (--ch-url)",
  },
  ...chOpts,
} as const;

const analysisOpts = {
  ...cacheOpt,
  ...outOpts,
  from: {
    type: "string",
    describe:
      "start: a date YYYY-MM-DD or a local time YYYY-MM-DDTHH:MM[:SS] in --tz (default: start of the cache)",
  },
  to: {
    type: "string",
    describe: "end: a date (inclusive) or a local time (exclusive) (default: end of the cache)",
  },
  last: {
    type: "string",
    describe: "the last DURATION of data (90m, 6h, 2d, 1w), ending at the minute after the latest event",
  },
  sql: { type: "boolean", describe: "print the SQL and parameters that would run, and exit" },
  "print-command": {
    type: "boolean",
    describe: "print the normalized evx command line (defaults written out), and exit",
  },
  tz: { type: "string", default: "UTC", describe: "IANA time zone for dates and buckets" },
  identity: {
    type: "string",
    choices: ["merged", "raw"],
    describe:
      "merged: count persons (anonymous ids join the user they were identified as); raw: each user id (default: merged when the cache's preset has identity rules)",
  },
  where: {
    type: "string",
    array: true,
    describe:
      "property filter KEY OP VALUE on every event (repeatable); OP: = != > >= < <= ~ in set !set; cohort=NAME / cohort!=NAME: the user is (not) in a saved cohort",
  },
  "save-cohort": {
    type: "string",
    describe: "with --users-of: save the users listed (all of them) as a static cohort NAME",
  },
  ...engineOpts,
} as const;

/** `--sample P%` on the analyses whose counts scale (docs/semantics.md, "Sampling"). */
const sampleOpt = {
  sample: {
    type: "string",
    describe:
      "estimate from a sample of users: P% from 1% to 100% (e.g. 10%), the same users for every step and period; counts are scaled up and marked ≈",
  },
} as const;

/** `--engine clickhouse` with its `--ch-url`/`--ch-table` for the TUI; undefined for the default cache. */
function engineOf(a: { engine?: string; "ch-url"?: string; "ch-table"?: string }) {
  if (a.engine !== "clickhouse") {
    if (a["ch-url"] !== undefined || a["ch-table"] !== undefined)
      throw new UsageError("--ch-url and --ch-table go with --engine clickhouse");
    return undefined;
  }
  return { engine: "clickhouse" as const, chUrl: a["ch-url"], chTable: a["ch-table"] };
}

/** How a lake is laid out and named: shared by `sync` and `clickhouse load`. */
const lakeShapeOpts = {
  layout: {
    type: "string",
    describe: "partition layout: hive[:KEY] | KEY= | hive-ymd | ymd | date (default: detect)",
  },
  map: {
    type: "string",
    describe:
      "rename fields: event_type=event,event_time=timestamp,user_id=distinct_id,event_properties=properties; dotted paths (properties.time) and fallbacks (userId|anonymousId) for sync",
  },
} as const;

export function buildCli(argv: string[]): Argv {
  return yargs(argv)
    .scriptName("evx")
    .usage(
      "$0 <command> [options]\n\nProduct analytics over an S3 JSON-lines event lake, from a local DuckDB cache.",
    )
    .command(
      ["ui", "$0"],
      "open the interactive TUI on the cache (the default command)",
      (y) =>
        y
          .options({
            ...cacheOpt,
            tz: { type: "string", default: "UTC", describe: "IANA time zone for dates and buckets" },
            every: { type: "string", describe: "live mode (L) sync interval, at least 5s (default 60s)" },
            view: { type: "string", describe: "open a saved view (w saves one; evx view list)" },
            restore: {
              type: "boolean",
              default: true,
              describe: "reopen where the TUI was left on this cache (--no-restore starts fresh)",
            },
            ...sampleOpt,
            ...engineOpts,
          })
          .example("$0", "explore the last synced cache")
          .example("$0 ui --view weekly-signups", "open a saved view")
          .example("$0 ui --sample 10%", "quick estimates from 10% of the users (% in the TUI changes it)")
          .example("$0 ui --cache ./acme.duckdb --tz Europe/Berlin", "a given cache, days in Berlin time")
          .example(
            "$0 ui --engine clickhouse --ch-url https://analyst@ch.internal:8443/analytics",
            "a ClickHouse table",
          ),
      async (a) => {
        const engine = engineOf(a);
        // `engine` (EngineOptions, src/queries/engine.ts) is absent for the default DuckDB cache.
        const opts = {
          cache: a.cache,
          tz: a.tz,
          every: a.every,
          view: a.view,
          restore: a.restore,
          ...(a.sample !== undefined ? { sample: a.sample } : {}),
          ...(engine ? { engine } : {}),
        };
        return (await import("./commands/ui.js")).runUi(opts);
      },
    )
    .command(
      "view <action> [name]",
      "saved views of the TUI (w saves one, ' opens one): list, show NAME, rm NAME",
      (y) =>
        y
          .positional("action", { type: "string", choices: ["list", "show", "rm"], demandOption: true })
          .positional("name", { type: "string", describe: "the view (show, rm)" })
          .options({ json: { type: "boolean", describe: "list or show as JSON" } })
          .example("$0 view list", "the saved views, one a line")
          .example("$0 view show weekly-signups", "one view's settings, as stored")
          .example("$0 view rm weekly-signups", "remove it")
          .example("$0 ui --view weekly-signups", "open it"),
      async (a) =>
        (await import("./commands/views.js")).runView({
          action: a.action as string,
          name: a.name,
          json: a.json,
        }),
    )
    .command(
      "annotate [words..]",
      "notes on the timeline, drawn on trend and funnel-over-time charts: TEXT [--at T], list, rm ID",
      (y) =>
        y
          .positional("words", {
            type: "string",
            array: true,
            describe: "the note's text; or list; or rm ID… (add TEXT for a note that reads list or rm)",
          })
          .options({
            at: {
              type: "string",
              describe:
                "when: a date YYYY-MM-DD or a local time YYYY-MM-DDTHH:MM[:SS] in --tz (default: now)",
            },
            tz: { type: "string", default: "UTC", describe: "IANA time zone of --at and of the list" },
            json: { type: "boolean", describe: "print the note (or the list) as JSON" },
          })
          .example('$0 annotate "deploy 1.42" --at 2023-06-01T14:05', "a note at 14:05 UTC")
          .example(
            '$0 annotate "campaign starts" --at 2023-06-05 --tz Europe/Berlin',
            "at midnight, Berlin time",
          )
          .example('$0 annotate "rolled back"', "a note now")
          .example("$0 annotate list", "every note: ID, time, text")
          .example("$0 annotate rm 3", "remove note 3")
          .example("$0 trend purchase --annotations-from app_version", "mark each new app version too")
          .epilog(
            "Notes live in $XDG_CONFIG_HOME/evx/annotations.json (default ~/.config/evx), private to you, and show on every cache's charts whose range holds them; --no-annotations hides them.",
          ),
      async (a) =>
        (await import("./commands/annotate.js")).runAnnotate({
          words: (a.words as string[] | undefined) ?? [],
          at: a.at,
          tz: a.tz,
          json: a.json,
        }),
    )
    .command(
      "demo",
      "generate a realistic synthetic lake, sync it, and open the TUI",
      (y) =>
        y
          .options({
            events: {
              type: "number",
              describe: "events in the demo lake (default 2M; 500k with --preset)",
            },
            cache: { type: "string", describe: "cache file (default ~/.cache/evx/demo[-PRESET].duckdb)" },
            ui: { type: "boolean", default: true, describe: "use --no-ui to stop after the sync" },
            preset: {
              type: "string",
              describe: `a vendor-shaped lake synced with that preset: ${PRESET_NAMES.join(" | ")}`,
            },
          })
          .example("$0 demo", "2M events over 28 days, then the TUI")
          .example(
            "$0 demo --preset segment",
            "a Segment S3 export (day folders, duplicates, identify calls)",
          )
          .example("$0 demo --events 200000 --no-ui", "a small lake, sync only"),
      async (a) =>
        (await import("./commands/demo.js")).runDemo({
          events: a.events,
          cache: a.cache,
          noUi: a.ui === false,
          preset: a.preset,
        }),
    )
    .command(
      "sync <source>",
      "mirror date partitions from s3://bucket/prefix or a folder into the cache",
      (y) =>
        y
          .positional("source", {
            type: "string",
            demandOption: true,
            describe: "s3://bucket/prefix or a local folder",
          })
          .options({
            from: { type: "string", describe: "first partition date, YYYY-MM-DD (inclusive)" },
            to: { type: "string", describe: "last partition date, YYYY-MM-DD (inclusive)" },
            cache: {
              type: "string",
              describe: "cache file (default: $EVX_CACHE, else ~/.cache/evx/<source>.duckdb)",
            },
            json: {
              type: "boolean",
              describe: "print one JSON summary instead of progress (with --watch, one line per cycle)",
            },
            endpoint: { type: "string", describe: "S3-compatible endpoint URL (MinIO, R2, localstack)" },
            region: { type: "string", describe: "AWS region (default: from profile/env, else us-east-1)" },
            profile: { type: "string", describe: "AWS profile from ~/.aws/config (SSO works)" },
            "sign-request": {
              type: "boolean",
              default: true,
              describe: "use --no-sign-request for public buckets",
            },
            concurrency: { type: "number", describe: "parallel downloads (default 16 for S3)" },
            ...lakeShapeOpts,
            preset: {
              type: "string",
              describe: `the lake is a collector's export: ${PRESET_NAMES.join(" | ")} (fields, identity, messages, layout, dedupe; stored with the cache)`,
            },
            dedupe: {
              type: "string",
              describe:
                "event id field (dotted path; a+b for an id of several fields): an event whose id is already cached is a duplicate",
            },
            watch: {
              type: "boolean",
              describe:
                "keep syncing every --every until Ctrl+C; without --from/--to, the newest two dates and any newer one",
            },
            every: { type: "string", describe: "watch interval, at least 5s (default 60s)" },
          })
          .example("$0 sync s3://acme-events/raw --from 2023-06-01 --to 2023-06-07", "sync one week")
          .example(
            "$0 sync s3://acme-events/raw --watch --every 30s",
            "follow the newest partitions, one line per cycle",
          )
          .example(
            "$0 sync s3://acme-events/raw --profile analytics --region eu-west-1",
            "use an AWS profile",
          )
          .example("$0 sync s3://lake/events --endpoint http://localhost:9000", "an S3-compatible server")
          .example(
            "$0 sync ./lake --map event_type=event,user_id=distinct_id --json",
            "a folder with Segment-style fields",
          )
          .example(
            "$0 sync s3://acme/segment-logs/src1 --preset segment",
            "Segment's S3 destination, deduped",
          )
          .example(
            "$0 sync ./mixpanel --preset mixpanel --map user_id=properties.$user_id|properties.distinct_id",
            "a preset refined with a dotted path and a fallback",
          ),
      async (a) => {
        await (await import("./commands/sync.js")).runSync({
          ...a,
          source: a.source as string,
          signRequest: a["sign-request"],
        });
      },
    )
    .command(
      "status",
      "show what the cache holds, per partition",
      (y) => y.options({ ...cacheOpt, ...outOpts }).example("$0 status --json", "machine-readable summary"),
      async (a) => (await import("./commands/status.js")).runStatus(a),
    )
    .command(
      "rejects",
      "list rejected lines: object, line number, reason and the raw line (cut to 1 KB)",
      (y) =>
        y
          .options({
            ...cacheOpt,
            ...outOpts,
            limit: { type: "number", default: 50, describe: "how many to list" },
          })
          .example("$0 rejects --limit 10", "the first ten rejected lines"),
      async (a) => (await import("./commands/status.js")).runRejects(a),
    )
    .command(
      "events",
      "the event catalog: events, users, first and last seen per event type",
      (y) =>
        y
          .options(analysisOpts)
          .example("$0 events --from 2023-06-01 --json", "catalog from June 1st on, as JSON")
          .example("$0 events --last 90m", "what happened in the last 90 minutes of data"),
      async (a) => (await import("./commands/analyze.js")).runEvents(a),
    )
    .command(
      "props <event>",
      "property keys seen on an event: type, presence and top values",
      (y) =>
        y
          .positional("event", { type: "string", demandOption: true })
          .options({ ...analysisOpts, top: { type: "number", default: 5, describe: "top values per key" } })
          .example("$0 props button_clicked", "what properties button clicks carry"),
      async (a) => (await import("./commands/analyze.js")).runProps({ ...a, event: a.event as string }),
    )
    .command(
      "trend <events..>",
      "counts over time per event (EVENT or EVENT[KEY OP VALUE])",
      (y) =>
        y
          .positional("events", { type: "string", array: true, demandOption: true })
          .options({
            ...analysisOpts,
            ...sampleOpt,
            measure: {
              type: "string",
              default: "events",
              describe:
                "events | users | per-user | sum:KEY | avg:KEY | p50|p90|p95|p99|median|min|max:KEY | per-user:p90 (events per user)",
            },
            interval: {
              type: "string",
              default: "day",
              describe: "minute | 5m | 15m | hour | day | week | month (local wall-clock buckets)",
            },
            formula: {
              type: "string",
              describe:
                "chart a formula over the series: letters A, B, … in order, + - * / ( ) and numbers, e.g. 'A/B*100'",
            },
            rolling: {
              type: "string",
              describe:
                "each point over a window ending at its bucket, e.g. 7d (users: distinct in the window)",
            },
            cumulative: { type: "boolean", describe: "each point over the range up to its bucket" },
            "annotations-from": {
              type: "string",
              describe: "mark where each value of this property key first appears (a release, a version)",
            },
            annotations: {
              type: "boolean",
              default: true,
              describe: "draw and list the notes of evx annotate (--no-annotations leaves them out)",
            },
            compare: {
              type: "string",
              describe: "add each series over an earlier period: previous | 1d | 1w | 4w",
            },
            breakdown: { type: "string", describe: "property key to split each series by" },
            limit: {
              type: "number",
              describe:
                "breakdown values shown, the rest go to (other) (default 10); with --users-of, users listed (default 100)",
            },
            "users-of": {
              type: "string",
              describe:
                "list the users with a matching event in the bucket starting at T (ISO or local time)",
            },
          })
          .example("$0 trend application_opened --measure users --interval week", "weekly active users")
          .example(
            "$0 trend '*' --measure users --sample 10%",
            "daily active users estimated from 10% of the users (≈, scaled ×10)",
          )
          .example("$0 trend 'button_clicked[button_name=save]' file_saved", "two series")
          .example(
            "$0 trend checkout_error checkout_started --measure users --formula 'A/B*100' --interval hour",
            "error rate in % of the users who started a checkout",
          )
          .example("$0 trend api_request --measure p95:latency_ms --interval 5m", "the p95 latency")
          .example("$0 trend '*' --measure users --rolling 7d", "weekly active users, day by day")
          .example(
            "$0 trend '*' --measure users --annotations-from app_version",
            "daily users, with a marker where each app version first appears",
          )
          .example("$0 trend signed_up --measure users --cumulative", "users signed up so far")
          .example(
            "$0 trend purchase --measure sum:revenue --breakdown currency --csv",
            "revenue by currency",
          )
          .example(
            "$0 trend checkout_error --interval hour --users-of 2023-06-01T14:00",
            "who hit it that hour",
          )
          .example(
            "$0 trend checkout_error --last 6h --interval 5m --compare 1d",
            "the last 6 hours in 5-minute buckets, against the same hours a day before",
          )
          .example(
            "$0 trend checkout_error --from 2023-06-01T14:00 --to 2023-06-01T15:30 --tz Europe/Berlin --interval minute",
            "an incident window, minute by minute, Berlin time",
          ),
      async (a) => (await import("./commands/analyze.js")).runTrend({ ...a, events: a.events as string[] }),
    )
    .command(
      "funnel <steps..>",
      "ordered funnel: users reaching each step within a window (furthest step over all attempts)",
      (y) =>
        y
          .positional("steps", { type: "string", array: true, demandOption: true })
          .options({
            ...analysisOpts,
            ...sampleOpt,
            within: { type: "string", demandOption: true, describe: "conversion window: 30m, 1h, 1d, 7d…" },
            breakdown: { type: "string", describe: "property key of the step-1 event" },
            limit: {
              type: "number",
              describe:
                "breakdown values shown, the rest go to (other) (default 10); with --users-of, users listed (default 100)",
            },
            "users-of": {
              type: "string",
              describe: "list users instead: reached:N (furthest step ≥ N) or dropped:N (reached N−1, not N)",
            },
            interval: {
              type: "string",
              describe: "add conversion over time: minute | 5m | 15m | hour | day | week | month",
            },
            "annotations-from": {
              type: "string",
              describe:
                "mark where each value of this property key first appears, on the conversion over time (needs --interval)",
            },
            annotations: {
              type: "boolean",
              default: true,
              describe: "draw and list the notes of evx annotate (--no-annotations leaves them out)",
            },
            compare: {
              type: "string",
              describe: "add the same funnel over an earlier period: previous | 1d | 1w | 4w",
            },
            order: {
              type: "string",
              describe:
                "ordered (default) | strict (no other event between steps) | any (steps in any order within the window)",
            },
            exclude: {
              type: "string",
              array: true,
              describe:
                "drop attempts with this event between steps A and B: 'EVENT[filter]@A-B' (default @1-K)",
            },
            hold: { type: "string", describe: "property key every step must share with step 1" },
            value: { type: "string", describe: "property key to sum over each step's events (revenue)" },
            "time-to-convert": {
              type: "boolean",
              describe: "add the histogram of the converted users' times between two steps",
            },
            "from-step": {
              type: "number",
              describe: "with --time-to-convert: the step it starts at (default 1)",
            },
            "to-step": {
              type: "number",
              describe: "with --time-to-convert: the step it ends at (default the last)",
            },
            bins: {
              type: "number",
              describe: "with --time-to-convert: number of bins, 1..90 (default ⌈∛users⌉, at most 60)",
            },
          })
          .example(
            "$0 funnel application_opened 'button_clicked[button_name=save]' file_saved --within 1h",
            "a 3-step funnel",
          )
          .example(
            "$0 funnel cart_viewed checkout_started purchase --within 1h --order strict --exclude 'error@2-3'",
            "nothing else in between, and no error between checkout and purchase",
          )
          .example(
            "$0 funnel product_viewed add_to_cart purchase --within 1d --hold product_id --value price",
            "the same product through every step, with the revenue per step",
          )
          .example(
            "$0 funnel tutorial_done invite_sent profile_filled --within 7d --order any",
            "in any order",
          )
          .example(
            "$0 funnel cart_viewed checkout_started purchase --within 1d --time-to-convert --from-step 2 --bins 10",
            "how long from checkout to purchase: 10 bins, average, median and p90",
          )
          .example("$0 funnel signed_up purchase --within 7d --breakdown plan --json", "by plan, as JSON")
          .example(
            "$0 funnel cart_viewed checkout_started purchase --within 30m --last 2h --compare 1w",
            "the last two hours against the same hours a week before",
          )
          .example("$0 funnel signed_up purchase --within 1d --sql", "the SQL that would run")
          .example(
            "$0 funnel signed_up purchase --within 7d --sample 10%",
            "a quick estimate from 10% of the users (the same users at every step)",
          )
          .example(
            "$0 funnel cart_viewed checkout_started purchase --within 30m --users-of dropped:2",
            "who viewed a cart but never started checkout",
          ),
      async (a) => (await import("./commands/analyze.js")).runFunnel({ ...a, steps: a.steps as string[] }),
    )
    .command(
      "retention <start> [return]",
      "cohort retention: first START event, then RETURN (default any event) per period",
      (y) =>
        y
          .positional("start", { type: "string", demandOption: true })
          .positional("return", { type: "string", describe: "return event (default *, any event)" })
          .options({
            ...analysisOpts,
            ...sampleOpt,
            period: { type: "string", default: "week", describe: "hour | day | week | month" },
            periods: { type: "number", default: 8, describe: "number of periods" },
            mode: { type: "string", default: "on", describe: "on | on-or-after" },
            cohort: {
              type: "string",
              describe: "first (default: the first START's bucket) | recurring (every bucket with a START)",
            },
            value: {
              type: "string",
              describe: "property key to sum over the RETURN events of each cell (revenue)",
            },
            breakdown: {
              type: "string",
              describe: "one table per value of this property of the START event that made the cohort",
            },
            "users-of": {
              type: "string",
              describe: "list users instead: COHORT:N (retained at period N) or COHORT:N:lost",
            },
            limit: {
              type: "number",
              describe:
                "breakdown values with their own table, the rest go to (other) (default 5); with --users-of, users listed (default 100)",
            },
          })
          .example(
            "$0 retention signed_up --period week --users-of 2023-06-05:2:lost --json",
            "who signed up that week and did not come back in week 2",
          )
          .example(
            "$0 retention signed_up application_opened --period week --periods 8",
            "weekly retention of signups",
          )
          .example(
            "$0 retention application_opened --period day --periods 14 --mode on-or-after",
            "unbounded daily retention",
          )
          .example(
            "$0 retention application_opened --period week --cohort recurring --value revenue",
            "recurring weekly cohorts (PostHog's default) with revenue per cell",
          )
          .example(
            "$0 retention signed_up --period week --breakdown plan --limit 3",
            "one table per plan of the signup event: the top 3, then (other) and (none)",
          ),
      async (a) =>
        (await import("./commands/analyze.js")).runRetention({
          ...a,
          start: a.start as string,
          return: a.return as string | undefined,
        }),
    )
    .command(
      "paths",
      "what users do after (or did before) an event: a tree of the most common next steps",
      (y) =>
        y
          .options({
            ...analysisOpts,
            ...sampleOpt,
            after: { type: "string", describe: "anchor at each user's first EVENT[filter] in the range" },
            before: { type: "string", describe: "anchor at each user's last EVENT[filter], walking back" },
            depth: {
              type: "number",
              describe: "steps per path, 1..10 (default 4; the human tree shows 2 unless given)",
            },
            top: {
              type: "number",
              default: 5,
              describe: "children per node, 1..50; the rest fold into (other)",
            },
            within: { type: "string", describe: "only events within DURATION of the anchor (30m, 1h, 1d…)" },
            collapse: {
              type: "boolean",
              default: true,
              describe: "count a run of one event type once (--no-collapse keeps repeats)",
            },
            "users-of": {
              type: "string",
              describe:
                "list a node's users instead: its path, e.g. 'signed_up>button_clicked' or '[\"a\",\"(other)\"]'",
            },
            limit: { type: "number", describe: "with --users-of, users listed (default 100)" },
          })
          .example("$0 paths --after application_opened", "what users do after opening the app, two steps")
          .example("$0 paths --after application_opened --depth 4", "four steps deep")
          .example("$0 paths --before purchase --within 1h --top 3", "the last steps before a purchase")
          .example("$0 paths --after 'button_clicked[button_name=save]' --no-collapse --json", "as JSON")
          .example("$0 paths --after application_opened --users-of 'signed_up>zoom'", "who took that path"),
      async (a) => (await import("./commands/insights.js")).runPaths(a),
    )
    .command(
      "stickiness <event>",
      "how many days (hours, weeks) of the range each user did EVENT: users per count",
      (y) =>
        y
          .positional("event", { type: "string", demandOption: true })
          .options({
            ...analysisOpts,
            ...sampleOpt,
            interval: { type: "string", default: "day", describe: "hour | day | week" },
          })
          .example("$0 stickiness application_opened --last 14d", "days active out of the last 14")
          .example("$0 stickiness file_saved --interval week --json", "weeks active, as JSON"),
      async (a) => (await import("./commands/insights.js")).runStickiness({ ...a, event: a.event as string }),
    )
    .command(
      "lifecycle <event>",
      "per bucket: new, returning, resurrecting and dormant users of EVENT",
      (y) =>
        y
          .positional("event", { type: "string", demandOption: true })
          .options({
            ...analysisOpts,
            ...sampleOpt,
            interval: { type: "string", default: "day", describe: "day | week | month" },
          })
          .example("$0 lifecycle application_opened --last 14d", "daily lifecycle over two weeks")
          .example("$0 lifecycle purchase --interval week --json", "weekly, as JSON"),
      async (a) => (await import("./commands/insights.js")).runLifecycle({ ...a, event: a.event as string }),
    )
    .command(
      "user <user_id>",
      "one user's events in time order, with their properties",
      (y) =>
        y
          .positional("user_id", { type: "string", demandOption: true })
          .options({
            ...analysisOpts,
            limit: { type: "number", default: 500, describe: "events listed at most" },
            event: { type: "string", array: true, describe: "only these event types (repeatable)" },
          })
          .example("$0 user 2ec5a1 --last 1d", "what this user did in the last day of data")
          .example("$0 user 2ec5a1 --event purchase --event error_shown --json", "two event types, as JSON")
          .example(
            "$0 user anon-7f3 --identity merged",
            "any of a person's ids: all of that person's events",
          ),
      async (a) =>
        (await import("./commands/analyze.js")).runUser({
          ...a,
          user: String(a.user_id),
          event: a.event as string[] | undefined,
        }),
    )
    .command(
      "cohort",
      "saved cohorts of users: behavioural (re-evaluated on each use) or static lists",
      (y) =>
        y
          .command(
            "save <name>",
            "save a behavioural cohort: users who did (not) do events, at least N times, in a window",
            (z) =>
              z
                .positional("name", { type: "string", demandOption: true })
                .options({
                  ...cacheOpt,
                  ...engineOpts,
                  json: outOpts.json,
                  did: { type: "string", array: true, describe: "EVENT[filter] the users did (repeatable)" },
                  "did-not": {
                    type: "string",
                    array: true,
                    describe: "EVENT[filter] the users did not do (repeatable)",
                  },
                  "at-least": { type: "number", describe: "with --did: at least N such events (default 1)" },
                  in: {
                    type: "string",
                    describe: "window: the last D of the data (7d, 24h), re-read on each use",
                  },
                  from: { type: "string", describe: "window start: a date or local time in --tz" },
                  to: {
                    type: "string",
                    describe: "window end: a date (inclusive) or local time (exclusive)",
                  },
                  tz: { type: "string", default: "UTC", describe: "IANA time zone of --from/--to" },
                })
                .example(
                  "$0 cohort save buyers --did purchase --at-least 2 --in 30d",
                  "two purchases in the last 30 days of data",
                )
                .example(
                  "$0 cohort save stuck --did 'checkout_started[plan=pro]' --did-not purchase --in 7d",
                  "started a pro checkout but never bought, last 7 days",
                )
                .example(
                  "$0 trend app_opened --where cohort=buyers --breakdown cohort:buyers,stuck",
                  "then use it: a filter, or in/not-in series",
                ),
            async (a) =>
              (await import("./commands/cohort.js")).runCohortSave({
                ...a,
                name: String(a.name),
                did: a.did as string[] | undefined,
                didNot: a["did-not"] as string[] | undefined,
                atLeast: a["at-least"],
                chUrl: a["ch-url"],
                chTable: a["ch-table"],
              }),
          )
          .command(
            "list",
            "the saved cohorts, behavioural or static, with their users now",
            (z) =>
              z
                .options({ ...cacheOpt, ...engineOpts, json: outOpts.json })
                .example("$0 cohort list --json", "as JSON"),
            async (a) =>
              (await import("./commands/cohort.js")).runCohortList({
                ...a,
                chUrl: a["ch-url"],
                chTable: a["ch-table"],
              }),
          )
          .command(
            "show <name>",
            "one cohort's definition and its users now",
            (z) =>
              z
                .positional("name", { type: "string", demandOption: true })
                .options({ ...cacheOpt, ...engineOpts, json: outOpts.json })
                .example("$0 cohort show buyers", "what it means and how many it holds"),
            async (a) =>
              (await import("./commands/cohort.js")).runCohortShow({
                ...a,
                name: String(a.name),
                chUrl: a["ch-url"],
                chTable: a["ch-table"],
              }),
          )
          .command(
            "rm <name>",
            "remove a saved cohort",
            (z) =>
              z
                .positional("name", { type: "string", demandOption: true })
                .options({ ...cacheOpt, ...engineOpts })
                .example("$0 cohort rm buyers", "forget it"),
            async (a) =>
              (await import("./commands/cohort.js")).runCohortRm({
                ...a,
                name: String(a.name),
                chUrl: a["ch-url"],
                chTable: a["ch-table"],
              }),
          )
          .demandCommand(1, "name a subcommand: save, list, show or rm")
          .example("$0 cohort save buyers --did purchase --in 30d", "save one")
          .example("$0 funnel a b --within 1d --users-of reached:2 --save-cohort converted", "a static one"),
      () => {},
    )
    .command(
      "clickhouse",
      "set up and fill a ClickHouse table for --engine clickhouse",
      (y) =>
        y
          .command(
            "schema",
            "print the DDL of the events table (MergeTree; with --cluster, Replicated + Distributed)",
            (z) =>
              z
                .options({
                  ...chOpts,
                  cluster: {
                    type: "string",
                    describe: "cluster name: ReplicatedMergeTree per shard + Distributed",
                  },
                  apply: {
                    type: "boolean",
                    describe:
                      "create the database and tables on the server of --ch-url (idempotent) instead of printing",
                  },
                })
                .example(
                  "$0 clickhouse schema --apply --ch-url https://admin@ch:8443/analytics",
                  "create the database, the table and the load's bookkeeping (again: no change)",
                )
                .example(
                  "$0 clickhouse schema | clickhouse-client --multiquery -d analytics",
                  "print the DDL and run it yourself",
                )
                .example(
                  "$0 clickhouse schema --apply --cluster prod --ch-table events",
                  "the cluster variant",
                ),
            async (a) =>
              (await import("./commands/clickhouse.js")).runClickHouseSchema({
                chTable: a["ch-table"],
                chUrl: a["ch-url"],
                cluster: a.cluster,
                apply: a.apply,
              }),
          )
          .command(
            "load <source>",
            "have the ClickHouse server read date partitions from S3 itself (s3()/s3Cluster()) and insert them",
            (z) =>
              z
                .positional("source", { type: "string", demandOption: true, describe: "s3://bucket/prefix" })
                .options({
                  from: { type: "string", describe: "first partition date, YYYY-MM-DD (inclusive)" },
                  to: { type: "string", describe: "last partition date, YYYY-MM-DD (inclusive)" },
                  ...chOpts,
                  cluster: { type: "string", describe: "load with s3Cluster() into the cluster's tables" },
                  endpoint: {
                    type: "string",
                    describe:
                      "S3-compatible endpoint URL, as evx reaches it (and the server, unless --server-endpoint)",
                  },
                  "server-endpoint": {
                    type: "string",
                    describe:
                      "the S3 endpoint URL as the ClickHouse server reaches it, when it differs (MinIO behind a port forward)",
                  },
                  concurrency: {
                    type: "number",
                    describe: "partitions loaded at once (default 4)",
                  },
                  region: {
                    type: "string",
                    describe: "AWS region (default: from profile/env, else us-east-1)",
                  },
                  profile: {
                    type: "string",
                    describe: "AWS profile whose credentials evx lists with and gives the server",
                  },
                  "sign-request": {
                    type: "boolean",
                    default: true,
                    describe: "use --no-sign-request for public buckets (the server reads with NOSIGN)",
                  },
                  "s3-credentials": {
                    type: "string",
                    choices: ["evx", "server"],
                    describe:
                      "evx: give the server evx's AWS credentials as query parameters (default); server: its own",
                  },
                  "s3-collection": {
                    type: "string",
                    describe: "a named collection on the server holding the S3 credentials",
                  },
                  ...lakeShapeOpts,
                  preset: {
                    type: "string",
                    describe: `the lake is a collector's export, read as evx sync --preset reads it: ${PRESET_NAMES.join(" | ")}`,
                  },
                  dedupe: {
                    type: "string",
                    describe:
                      "event id field (a+b for several; default: the preset's): the first event of an id loads, later ones are duplicates; none: no dedupe",
                  },
                  force: { type: "boolean", describe: "re-load partitions whose objects did not change" },
                  json: { type: "boolean", describe: "print one JSON summary instead of progress" },
                  sql: {
                    type: "boolean",
                    describe: "print the statements per partition (secrets as ***) and exit",
                  },
                })
                .example(
                  "$0 clickhouse load s3://acme-events/raw --from 2023-06-01 --to 2023-06-07 --ch-url https://loader@ch:8443/analytics",
                  "load one week",
                )
                .example(
                  "$0 clickhouse load s3://acme-events/raw --cluster prod --s3-credentials server",
                  "on a cluster, the nodes read S3 with their own role",
                )
                .example(
                  "$0 clickhouse load s3://lake/raw --endpoint http://localhost:9000 --server-endpoint http://minio:9000 --concurrency 8",
                  "MinIO port-forwarded to evx, reached by the server by its own name; 8 partitions at once",
                )
                .example(
                  "$0 clickhouse load s3://acme-data/posthog --preset posthog",
                  "a PostHog batch export (JSON lines or Parquet), deduped on uuid as evx sync reads it",
                ),
            async (a) => {
              await (await import("./commands/clickhouse.js")).runClickHouseLoad({
                source: a.source as string,
                from: a.from,
                to: a.to,
                chUrl: a["ch-url"],
                chTable: a["ch-table"],
                cluster: a.cluster,
                endpoint: a.endpoint,
                serverEndpoint: a["server-endpoint"],
                concurrency: a.concurrency,
                region: a.region,
                profile: a.profile,
                signRequest: a["sign-request"],
                s3Credentials: a["s3-credentials"],
                s3Collection: a["s3-collection"],
                layout: a.layout,
                map: a.map,
                preset: a.preset,
                dedupe: a.dedupe,
                force: a.force,
                json: a.json,
                sql: a.sql,
              });
            },
          )
          .demandCommand(1, "name a subcommand: schema or load"),
      () => {},
    )
    .command(
      "doctor [source]",
      "check the setup: Node, the DuckDB binding, the cache folder, AWS credentials and S3, the terminal, EVX_* variables",
      (y) =>
        y
          .positional("source", {
            type: "string",
            describe: "s3://bucket/prefix or a folder to check (default: the cache's source)",
          })
          .options({
            cache: cacheOpt.cache,
            json: { type: "boolean", describe: "print {ok, checks: [{name, status, detail, fix}]}" },
            endpoint: { type: "string", describe: "S3-compatible endpoint URL (MinIO, R2, localstack)" },
            region: { type: "string", describe: "AWS region (default: from profile/env, else us-east-1)" },
            profile: { type: "string", describe: "AWS profile from ~/.aws/config (SSO works)" },
            "sign-request": {
              type: "boolean",
              default: true,
              describe: "use --no-sign-request for public buckets",
            },
          })
          .example("$0 doctor", "check the setup and the last cache's source")
          .example("$0 doctor s3://acme-events/raw --profile analytics", "can evx list this bucket?")
          .example("$0 doctor --json", "the checks as JSON"),
      async (a) =>
        (await import("./commands/doctor.js")).doctorCommand({
          source: a.source,
          cache: a.cache,
          json: a.json,
          endpoint: a.endpoint,
          region: a.region,
          profile: a.profile,
          signRequest: a["sign-request"],
        }),
    )
    .command(
      "completion <shell>",
      "print a shell completion script (commands, flags, event names and property keys of the cache)",
      (y) =>
        y
          .positional("shell", { type: "string", choices: ["bash", "zsh", "fish"], demandOption: true })
          .example("$0 completion bash > ~/.local/share/bash-completion/completions/evx", "bash")
          .example("$0 completion zsh > ~/.zfunc/_evx", "zsh: a folder on $fpath (then restart zsh)")
          .example("$0 completion fish > ~/.config/fish/completions/evx.fish", "fish"),
      async (a) => {
        process.stdout.write((await import("./commands/completion.js")).completionScript(a.shell as string));
      },
    )
    .version(versionLine())
    .alias("h", "help")
    .alias("v", "version")
    .strict()
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      // main() words the line (with a "did you mean" for a mistyped command or flag) and exits 2.
      throw new CliRefused(msg);
    });
}

/** yargs refused the command line (unknown command or flag, missing argument, bad choice). */
class CliRefused extends Error {}

/**
 * yargs renders the whole help text before it runs a command's handler, in case the handler asks
 * for it later (about 30 ms per run, the biggest cost of parsing). No handler here does: help is
 * printed by --help and by failures, before a handler runs. If yargs changes, this does nothing.
 */
function withoutHelpCache(cli: Argv): Argv {
  const usage = (
    cli as unknown as { getInternalMethods?(): { getUsageInstance?(): { cacheHelpMessage?: () => void } } }
  )
    .getInternalMethods?.()
    .getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === "function") usage.cacheHelpMessage = () => {};
  return cli;
}

export async function main(argv = hideBin(process.argv)): Promise<void> {
  // `evx events | head` closes the pipe early: stop quietly, as other Unix tools do.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
  try {
    await withoutHelpCache(buildCli(argv)).parseAsync();
  } catch (e) {
    if (e instanceof CliRefused) {
      const [{ cliFailureLine }, { cleanText }] = await Promise.all([
        import("./commands/typos.js"),
        import("./render/clean.js"),
      ]);
      // The line may quote a mistyped argument: no control sequence of it reaches the terminal.
      process.stderr.write(`${cleanText(await cliFailureLine(e.message, argv))}\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    const code = exitCodeFor(e);
    if (e instanceof Error && !(e instanceof ExitError)) process.stderr.write(`${errorLine(e)}\n`);
    if (process.env.EVX_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    process.exitCode = code;
  }
}
