import prettyBytes from "pretty-bytes";
import { formatMap, type LakeFormat } from "../cache/mapping.js";
import { type CacheStatus, cacheStatus, listRejects } from "../cache/status.js";
import { cleanText } from "../render/sanitize.js";
import { fmtInt, textTable, toCsv } from "../render/table.js";
import { openForRead } from "./cachepath.js";
import { UsageError } from "./errors.js";
import { printJson, termWidth } from "./output.js";

export async function runStatus(a: { cache?: string; json?: boolean; csv?: boolean }): Promise<void> {
  const cache = await openForRead(a.cache);
  try {
    const s = await cacheStatus(cache);
    if (a.json) return printJson(s);
    if (a.csv) {
      process.stdout.write(
        toCsv(
          ["date", "objects", "events", "rejected", "bytes", "synced_at", "failed"],
          s.partitions.map((p) => [
            p.date,
            p.objects,
            p.events,
            p.rejected,
            p.bytes,
            p.synced_at,
            p.failed ?? 0,
          ]),
        ),
      );
      return;
    }
    const head = [
      `cache   ${s.cache}`,
      `source  ${s.source ?? "(none)"}`,
      `events  ${fmtInt(s.events)} from ${fmtInt(s.users)} users, ${fmtInt(s.rejected)} rejected lines${s.skipped ? `, ${fmtInt(s.skipped)} skipped messages` : ""}${s.format?.dedupe ? `, ${fmtInt(s.duplicates)} duplicates` : ""}`,
      `format  ${s.format ? formatLine(s.format) : "(not synced yet)"}`,
      `range   ${s.first_event ?? "-"} .. ${s.last_event ?? "-"}`,
      `identity ${identityLine(s.identity)}`,
      `hot     ${s.hot_keys.map((k) => JSON.stringify(cleanText(k))).join(", ") || "(none)"}`,
      ...(s.syncing ? [`syncing evx ${cleanText(s.syncing.what)} (PID ${s.syncing.pid})`] : []),
      "",
    ].join("\n");
    process.stdout.write(`${head}\n`);
    process.stdout.write(
      textTable(
        [
          { title: "date" },
          { title: "objects", align: "right" },
          { title: "events", align: "right" },
          { title: "rejected", align: "right" },
          { title: "bytes", align: "right" },
          { title: "failed", align: "right" },
          { title: "synced at" },
        ],
        s.partitions.map((p) => [
          p.date,
          fmtInt(p.objects),
          fmtInt(p.events),
          fmtInt(p.rejected),
          prettyBytes(p.bytes),
          p.failed ? fmtInt(p.failed) : "",
          p.synced_at?.slice(0, 19).replace("T", " "),
        ]),
        termWidth(),
      ),
    );
    if (s.failures.length) {
      process.stdout.write(`\n${s.failures.length} object(s) failed and will be retried by the next sync:\n`);
      for (const f of s.failures.slice(0, 20)) process.stdout.write(`  ${f.error}\n`);
    }
  } finally {
    cache.close();
  }
}

/**
 * `merged by default; 1,204 ids merged into 310 persons (2,001 links), 3 conflicts (ids identified as
 * two users: the first identification wins)`, or why the default is raw.
 */
function identityLine(i: CacheStatus["identity"]): string {
  if (i.default === "raw") return `raw by default (${i.why ?? "no identity information"})`;
  return `merged by default; ${fmtInt(i.ids)} ids merged into ${fmtInt(i.persons)} persons (${fmtInt(i.links)} links), ${fmtInt(i.conflicts)} conflicts${i.conflicts ? " (ids identified as two users: the first identification wins)" : ""}`;
}

/** `preset segment; event_type=event,…; dedupe by messageId`. */
function formatLine(f: LakeFormat): string {
  return [
    f.preset ? `preset ${f.preset}` : "no preset",
    formatMap(f.map),
    f.dedupe ? `dedupe by ${f.dedupe}` : "no dedupe",
  ]
    .map((x) => cleanText(x))
    .join("; ");
}

export async function runRejects(a: {
  cache?: string;
  json?: boolean;
  csv?: boolean;
  limit?: number;
}): Promise<void> {
  const limit = a.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 0) throw new UsageError("--limit must be a whole number ≥ 0");
  const cache = await openForRead(a.cache);
  try {
    const r = await listRejects(cache, limit);
    if (a.json) return printJson(r);
    if (a.csv) {
      process.stdout.write(
        toCsv(
          ["key", "line", "reason", "raw"],
          r.rejects.map((x) => [x.key, x.line, x.reason, x.raw]),
        ),
      );
      return;
    }
    process.stdout.write(
      textTable(
        [
          { title: "object", max: 40 },
          { title: "line", align: "right" },
          { title: "reason", max: 40 },
          { title: "raw line", max: 60 },
        ],
        r.rejects.map((x) => [x.key, x.line, x.reason, x.raw]),
        termWidth(),
      ),
    );
    process.stdout.write(`${fmtInt(r.rejects.length)} of ${fmtInt(r.total)} rejected lines shown\n`);
  } finally {
    cache.close();
  }
}
