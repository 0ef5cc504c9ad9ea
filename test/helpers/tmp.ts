import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { gunzipSync } from "node:zlib";

/** A temp folder removed when the test file finishes. */
export function tempDir(prefix = "evx-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

export function jsonl(rows: unknown[]): string {
  return `${rows.map((r) => (typeof r === "string" ? r : JSON.stringify(r))).join("\n")}\n`;
}

export function ev(type: string, time: string, user: string, props: Record<string, unknown> = {}) {
  return { event_type: type, event_time: time, user_id: user, event_properties: props };
}

/** Brute-force count of non-blank lines in every data file under `dir` (gzip decompressed). */
export function countLakeLines(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !/\.(jsonl|ndjson|json)(\.gz)?$/.test(e.name)) continue;
    let buf = readFileSync(join(e.parentPath, e.name));
    if (e.name.endsWith(".gz")) buf = gunzipSync(buf);
    for (const line of buf.toString("utf8").split("\n")) if (line.trim()) n++;
  }
  return n;
}
