/**
 * Notes on the timeline (issue #28, `evx annotate`): "deploy 1.42" at an instant, drawn as a marker on
 * every trend and funnel-over-time chart whose range holds it. One small readable JSON file per user
 * in the XDG config folder (`$XDG_CONFIG_HOME/evx/annotations.json`, default
 * `~/.config/evx/annotations.json`) beside the saved views, not in the cache, so notes survive a cache
 * rebuild. They are global, not per cache: a deploy happened to the product, whichever cache or
 * ClickHouse table holds its events (README, "Annotations").
 *
 * The file is private to the user (mode 0600, its folder 0700 when created) and written through a
 * temporary file and a rename, so a crash never leaves half a file. Note texts are stored without
 * control characters (cleanText) and cleaned again before any display (the file may be hand-edited).
 * No React here (`evx annotate` and the trend command read it too).
 */

import { cleanText } from "../../render/clean.js";
import { configFilePath, readConfigJson, writeConfigJson } from "./configfile.js";

export interface Note {
  /** A small number, never reused in the file (`evx annotate rm ID`). */
  id: number;
  /** The instant, as an ISO instant (`2023-06-01T14:05:00.000Z`). */
  at: string;
  text: string;
  /** When it was written (ISO instant). */
  created: string;
}

export interface NotesFile {
  notes: Note[];
  /** The next id to give. */
  next: number;
}

export function annotationsPath(env: NodeJS.ProcessEnv = process.env): string {
  return configFilePath("annotations.json", env);
}

/** The file's notes, by instant then id; an absent file is none. A file that does not parse is an error naming it. */
export function readNotes(path = annotationsPath()): NotesFile {
  return readConfigJson(
    path,
    "annotations",
    () => ({ notes: [], next: 1 }),
    (json) => {
      const v = json as Partial<NotesFile>;
      if (!v || typeof v !== "object" || (v.notes !== undefined && !Array.isArray(v.notes)))
        throw new Error("not an annotations file");
      const notes = (v.notes ?? [])
        .filter(
          (n): n is Note =>
            !!n &&
            Number.isInteger(n.id) &&
            typeof n.at === "string" &&
            !Number.isNaN(Date.parse(n.at)) &&
            typeof n.text === "string",
        )
        .sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.id - b.id);
      const next = Math.max(Number.isInteger(v.next) ? (v.next as number) : 1, ...notes.map((n) => n.id + 1));
      return { notes, next };
    },
  );
}

/** Writes the whole file: private to the user (0600), through a temporary file and a rename. */
export function writeNotes(file: NotesFile, path = annotationsPath()): void {
  writeConfigJson(path, file);
}

/** A note's text as stored and shown: one line, no control characters, no spaces around it. */
export function noteText(text: string): string {
  return cleanText(text).trim();
}

/** Adds a note at `at` (ISO instant); returns it. An empty text (after cleaning) is refused. */
export function addNote(text: string, at: string, path = annotationsPath(), now: Date = new Date()): Note {
  const clean = noteText(text);
  if (!clean) throw new Error("the note is empty");
  const f = readNotes(path);
  const note: Note = { id: f.next, at, text: clean, created: now.toISOString() };
  f.notes.push(note);
  f.notes.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.id - b.id);
  f.next += 1;
  writeNotes(f, path);
  return note;
}

/** Removes note `id`; false when there is none. */
export function removeNote(id: number, path = annotationsPath()): boolean {
  const f = readNotes(path);
  const i = f.notes.findIndex((n) => n.id === id);
  if (i < 0) return false;
  f.notes.splice(i, 1);
  writeNotes(f, path);
  return true;
}

/** The notes, or none when the file cannot be read (a chart never fails for its notes). */
export function notesOrNone(path = annotationsPath()): Note[] {
  try {
    return readNotes(path).notes;
  } catch {
    return [];
  }
}
