import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";

/** A temp folder removed when the test file finishes. */
export function tempDir(prefix = "evx-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

export function jsonl(rows: unknown[]): string {
  return rows.map((r) => (typeof r === "string" ? r : JSON.stringify(r))).join("\n") + "\n";
}

export function ev(type: string, time: string, user: string, props: Record<string, unknown> = {}) {
  return { event_type: type, event_time: time, user_id: user, event_properties: props };
}
