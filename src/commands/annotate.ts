/** `evx annotate TEXT [--at T]`, `evx annotate list`, `evx annotate rm ID`: notes on the timeline (src/views/state/annotations.ts). */
import { parseRangeBound, parseZone } from "../queries/parse.js";
import { DAY_US, instantText, localStart, readBound, resolveLocal, zoneBetween } from "../queries/time.js";
import { cleanText } from "../render/clean.js";
import { timeText } from "../render/format.js";
import { addNote, annotationsPath, type Note, readNotes, removeNote } from "../views/state/annotations.js";
import { UsageError } from "./errors.js";
import { printJson } from "./output.js";

export interface AnnotateArgs {
  words: string[];
  at?: string;
  tz?: string;
  json?: boolean;
}

/**
 * `--at`: a date `YYYY-MM-DD` (its first instant) or a local time `YYYY-MM-DDTHH:MM[:SS]` in `tz`, read
 * as a range's `--from` is (docs/semantics.md, "Range": a skipped or repeated local time as DuckDB
 * resolves it); `now` when absent. Returns the ISO instant.
 */
export function noteInstant(at: string | undefined, tz: string, nowMs = Date.now()): string {
  if (at === undefined) return instantText(nowMs * 1000);
  const text = parseRangeBound(at, "--at");
  const b = readBound(text);
  if (!b) throw new UsageError(`bad --at ${JSON.stringify(at)}`);
  const zone = zoneBetween(tz, b.us - 2 * DAY_US, b.us + 2 * DAY_US);
  return instantText(b.kind === "local" ? resolveLocal(zone, b.us) : localStart(zone, b.us));
}

function line(n: Note, tz: string, w: number): string {
  return `${String(n.id).padStart(w)}  ${timeText(n.at, tz)}  ${cleanText(n.text)}`;
}

export async function runAnnotate(a: AnnotateArgs): Promise<void> {
  const tz = parseZone(a.tz ?? "UTC");
  const path = annotationsPath();
  const [first, ...rest] = a.words.map(String);
  if (first === "list" && !rest.length) {
    if (a.at !== undefined) throw new UsageError("--at goes with a new note, not with list");
    const { notes } = readNotes(path);
    if (a.json)
      return printJson({ path, annotations: notes.map((n) => ({ ...n, text: cleanText(n.text) })) });
    if (!notes.length) {
      process.stderr.write(`evx: no annotations in ${path} (evx annotate "deploy 1.42" adds one)\n`);
      return;
    }
    const w = Math.max(...notes.map((n) => String(n.id).length));
    for (const n of notes) process.stdout.write(`${line(n, tz, w)}\n`);
    return;
  }
  if (first === "rm") {
    if (!rest.length)
      throw new UsageError("evx annotate rm needs the note's ID (evx annotate list shows them)");
    const ids = rest.map((x) => {
      if (!/^\d+$/.test(x))
        throw new UsageError(`bad note ID ${JSON.stringify(cleanText(x))}: a number from evx annotate list`);
      return Number(x);
    });
    const { notes } = readNotes(path);
    const missing = ids.filter((id) => !notes.some((n) => n.id === id));
    if (missing.length)
      throw new UsageError(
        `no note ${missing.join(", ")}${notes.length ? `; notes: ${notes.map((n) => n.id).join(", ")}` : " (there are none)"}`,
      );
    for (const id of ids) removeNote(id, path);
    process.stderr.write(`evx: removed note${ids.length > 1 ? "s" : ""} ${ids.join(", ")}\n`);
    return;
  }
  const words = first === "add" ? rest : a.words.map(String);
  const text = words.join(" ");
  if (!cleanText(text).trim())
    throw new UsageError('give the note\'s text: evx annotate "deploy 1.42" [--at 2023-06-01T14:05]');
  const note = addNote(text, noteInstant(a.at, tz), path);
  if (a.json) return printJson(note);
  process.stderr.write(`evx: note ${note.id} at ${timeText(note.at, tz)} (${tz}): ${cleanText(note.text)}\n`);
}
