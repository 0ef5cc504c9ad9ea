/**
 * Deterministic, realistic event-lake generator (tests, benchmark, `evx demo`).
 *
 * Layout: `dir/date=YYYY-MM-DD/part-HHMM.jsonl[.gz]`, one file per 15 minutes (UTC), only files with
 * events. One JSON object per line, sorted by time within a file:
 *   {"event_type":"zoom","event_time":"2023-06-01T16:12:14.721323Z","user_id":"…","event_properties":{…}}
 *
 * Model: a pool of users (some pre-existing, most "born" on a day of the range). A user is active on
 * their birth day and returns on later days with a decaying probability (so retention curves look
 * real). Each day gets an exact event quota (weekday seasonality, slight growth) that is split over the
 * day's active users; each user-day is one or more sessions `application_opened → … → application_closed`
 * starting at an hour drawn from a daily curve. New users usually `signed_up` in their first session.
 *
 * Everything is driven by seeded PRNGs (no Math.random, no clock), so the same options give
 * byte-identical files. Only one day of compact typed arrays is held in memory at a time.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { gzip, gzipSync } from "node:zlib";

export interface LakeOptions {
  dir: string;
  /** Exact number of events written. */
  events: number;
  /** Number of days (default 28). */
  days?: number;
  /** First day, YYYY-MM-DD (default 2023-06-01). */
  start?: string;
  /** PRNG seed (default 1). */
  seed?: number;
  /** Events per user (default 40 → ~500k users per 20M events). */
  usersPer?: number;
  /** Share of files written as .jsonl.gz (0..1, default 0.3). */
  gzipShare?: number;
  /** Called with the cumulative number of events written to disk. */
  onProgress?: (eventsWritten: number) => void;
}

export interface LakeResult {
  events: number;
  files: number;
  /** Bytes on disk (compressed size for .gz files). */
  bytes: number;
  /** Distinct users that have at least one event. */
  users: number;
}

const gzipAsync = (b: Buffer) => promisify(gzip)(b, { level: 1, chunkSize: 1 << 20 });

/* ---------------- PRNG ---------------- */

/** 32-bit integer mix (murmur3 fmix32). */
function mix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hash3(a: number, b: number, c: number): number {
  return mix32(mix32(mix32(a ^ 0x9e3779b9) ^ b) + Math.imul(c, 0x27d4eb2d));
}

/** mulberry32: returns floats in [0, 1). */
function prng(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/* ---------------- vocabulary ---------------- */

const T_OPENED = 0;
const T_CLOSED = 1;
const T_CLICK = 2;
const T_ZOOM = 3;
const T_FOPEN = 4;
const T_FSAVE = 5;
const T_SIGNUP = 6;
const T_PURCHASE = 7;
const T_ERROR = 8;
const TYPE_NAMES = [
  "application_opened",
  "application_closed",
  "button_clicked",
  "zoom",
  "file_opened",
  "file_saved",
  "signed_up",
  "purchase",
  "error_shown",
];
/** Line heads per type: `{"event_type":"…","event_time":"`. */
const HEAD_BYTES = TYPE_NAMES.map((t) => Buffer.from(`{"event_type":${JSON.stringify(t)},"event_time":"`));

/** Middle-of-session event mix: cumulative probabilities and the types they pick. */
const MID_CDF = [0.46, 0.66, 0.78, 0.96, 0.99, 1];
const MID_TYPES = [T_CLICK, T_ZOOM, T_FOPEN, T_FSAVE, T_ERROR, T_PURCHASE];

const q = (s: string) => JSON.stringify(s);
const BUTTONS = ["save", "open", "share", "export", "undo", "redo", "copy", "paste", "print", "help"].map(q);
const SCREENS = ["editor", "home", "settings", "gallery"].map(q);
const PLATFORMS = ["mac", "windows", "linux", "web", "ios"].map(q);
const COUNTRIES = ["US", "DE", "GB", "FR", "JP", "BR", "IN", "CA", "ES", "NL"].map(q);
/** Includes a numeric-looking string ("2.10") so numeric filter casts get exercised. */
const VERSIONS = ["2.9", "2.10", "3.0.1", "3.1"].map(q);
const PLANS = ["free", "pro", "team"].map(q);
const REFERRERS = ["google", "twitter", "newsletter", "friend", "producthunt"].map(q);
const CURRENCIES = ["USD", "EUR", "GBP"].map(q);
const REVENUES = ["4.99", "9.99", "14.99", "19.99", "49", "99"];
const ZOOMS = ["0.25", "0.5", "0.75", "1", "1.25", "1.5", "2", "3", "4"];
const SOURCES = ["recent", "dialog", "drag", "cloud"].map(q);
const FILES = [
  "report.docx",
  "notes.txt",
  "budget 2023.xlsx",
  "slides.key",
  "diagram.svg",
  "photo.png",
  "todo.md",
  "contract.pdf",
].map(q);
/** Escaping edge cases: quotes, backslash, control chars, accents, CJK, astral emoji. */
const ODD_FILES = [
  'Q3 "final" report.docx',
  "café menu.pdf",
  "日本語ファイル.txt",
  "launch 🚀 plan.key",
  "back\\slash.txt",
  "tab\there.csv",
  "Ünïcödé – naïve résumé.doc",
  "line\nbreak.txt",
].map(q);
const ERRORS = [
  'Can\'t open "file"',
  "Disk full",
  "Network timeout",
  "Permission denied: /Users/ana/Documents",
  "Unerwarteter Fehler – bitte erneut versuchen",
].map(q);

/** UTC hour-of-day activity curve. */
const HOUR_W = [
  0.55, 0.45, 0.35, 0.3, 0.3, 0.35, 0.45, 0.6, 0.75, 0.9, 1.0, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3, 1.3, 1.25,
  1.15, 1.0, 0.9, 0.8, 0.65,
];
const HOUR_CDF = (() => {
  const total = HOUR_W.reduce((a, b) => a + b, 0);
  let acc = 0;
  return HOUR_W.map((w) => {
    acc += w / total;
    return acc;
  });
})();
/** Sunday..Saturday. */
const WEEKDAY_W = [0.65, 1.0, 1.02, 1.0, 0.98, 0.92, 0.7];

const PAD2: string[] = Array.from({ length: 60 }, (_, i) => (i < 10 ? `0${i}` : `${i}`));
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

const SLOT_US = 15 * 60 * 1e6;
const DAY_US = 86_400 * 1e6;
const SLOTS = 96;
const MAX_SESSION = 60;
const KEY_MUL = 8388608; // 2^23: per-slot sort key = offset_us * 2^23 + local index (< 2^53)

function hex32(x: number): string {
  return HEX[(x >>> 24) & 255] + HEX[(x >>> 16) & 255] + HEX[(x >>> 8) & 255] + HEX[x & 255];
}

function userId(seed: number, idx: number): string {
  const a = hash3(seed, idx, 11);
  const b = hash3(seed, idx, 22);
  const c = hash3(seed, idx, 33);
  const d = hash3(seed, idx, 44);
  const h = hex32(a) + hex32(b) + hex32(c) + hex32(d);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Splits `total` into integer parts proportional to `weights` (cumulative rounding, exact sum). */
function apportion(total: number, weights: ArrayLike<number>, n: number, out: Int32Array): void {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += weights[i];
  let acc = 0;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    acc += weights[i];
    const cum = i === n - 1 ? total : Math.round((total * acc) / sum);
    out[i] = cum - prev;
    prev = cum;
  }
}

interface Normalized {
  events: number;
  days: number;
  start: string;
  seed: number;
  usersPer: number;
  gzipShare: number;
}

function normalize(opts: LakeOptions): Normalized {
  const n: Normalized = {
    events: opts.events,
    days: opts.days ?? 28,
    start: opts.start ?? "2023-06-01",
    seed: opts.seed ?? 1,
    usersPer: opts.usersPer ?? 40,
    gzipShare: opts.gzipShare ?? 0.3,
  };
  if (!Number.isInteger(n.events) || n.events < 0) throw new Error(`events must be a non-negative integer`);
  if (!Number.isInteger(n.days) || n.days < 1) throw new Error(`days must be a positive integer`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(n.start) || Number.isNaN(Date.parse(`${n.start}T00:00:00Z`)))
    throw new Error(`start must be YYYY-MM-DD`);
  if (!(n.usersPer > 0)) throw new Error(`usersPer must be > 0`);
  if (!(n.gzipShare >= 0 && n.gzipShare <= 1)) throw new Error(`gzipShare must be in 0..1`);
  return n;
}

/** Writes a synthetic lake into `dir` (existing files with the same names are overwritten). */
export async function generateLake(opts: LakeOptions): Promise<LakeResult> {
  const o = normalize(opts);
  const { seed, days } = o;
  const startMs = Date.parse(`${o.start}T00:00:00Z`);

  /* ---- users ---- */
  const U = o.events === 0 ? 0 : Math.max(1, Math.round(o.events / o.usersPer));
  const nPre = Math.round(U * 0.2);
  const birth = new Int16Array(U);
  const eng = new Float32Array(U);
  const seen = new Uint8Array(U);
  {
    const r = prng(hash3(seed, 0x5eed, 1));
    for (let i = 0; i < U; i++) {
      eng[i] = 0.2 + 0.8 * r();
      birth[i] = i < nPre ? -1 - Math.floor(r() * 21) : 0;
    }
  }
  // Return probability by age in days.
  const decay = new Float64Array(days + 32);
  for (let a = 0; a < decay.length; a++) decay[a] = a === 0 ? 1 : Math.min(1, 0.6 / Math.sqrt(a));

  /* ---- per-day quotas (exact total) ---- */
  const dayW = new Float64Array(days);
  const weekday = new Int8Array(days);
  const dates: string[] = [];
  for (let d = 0; d < days; d++) {
    const dt = new Date(startMs + d * 86_400_000);
    weekday[d] = dt.getUTCDay();
    dates.push(dt.toISOString().slice(0, 10));
    dayW[d] = WEEKDAY_W[weekday[d]] * (1 + 0.01 * d);
  }
  const quota = new Int32Array(days);
  apportion(o.events, dayW, days, quota);
  const newPerDay = new Int32Array(days);
  apportion(U - nPre, dayW, days, newPerDay);

  /* ---- output plumbing ---- */
  let files = 0;
  let bytes = 0;
  let written = 0;
  const pending: Promise<void>[] = [];
  const MAX_PENDING = 8;
  let scratch = Buffer.allocUnsafe(1 << 20);
  const write = (path: string, body: Buffer, gz: boolean, count: number): Promise<void> => {
    const p = (async () => {
      const data = gz ? await gzipAsync(body) : body;
      await writeFile(path, data);
      bytes += data.length;
      files++;
      written += count;
      opts.onProgress?.(written);
    })();
    return p;
  };

  let bornEnd = nPre;
  let cumNew = nPre;
  const activeBuf = { ids: new Int32Array(1024), w: new Float64Array(1024) };

  for (let d = 0; d < days; d++) {
    const Q = quota[d];
    const r = prng(hash3(seed, d, 0xda1));
    cumNew += newPerDay[d];
    const newStart = bornEnd;
    let newEnd = Math.max(bornEnd, Math.min(U, cumNew));
    for (let i = newStart; i < newEnd; i++) birth[i] = d;

    /* active users: today's newcomers, then returning users */
    let A = 0;
    const push = (i: number, w: number) => {
      if (A === activeBuf.ids.length) {
        const ids = new Int32Array(A * 2);
        ids.set(activeBuf.ids);
        const ws = new Float64Array(A * 2);
        ws.set(activeBuf.w);
        activeBuf.ids = ids;
        activeBuf.w = ws;
      }
      activeBuf.ids[A] = i;
      activeBuf.w[A] = w;
      A++;
    };
    for (let i = newStart; i < newEnd; i++) push(i, eng[i] * (0.4 + r()) * 1.3);
    const wk = WEEKDAY_W[weekday[d]];
    for (let i = 0; i < newStart; i++) {
      const age = d - birth[i];
      if (r() < eng[i] * decay[age] * wk) push(i, eng[i] * (0.4 + r()));
    }
    if (A === 0 && Q > 0) {
      if (newEnd < U) {
        birth[newEnd] = d;
        push(newEnd, 1);
        newEnd++;
      } else {
        push(Math.floor(r() * newStart), 1);
      }
    }
    bornEnd = newEnd;
    if (Q === 0) continue;

    /* events per active user: 1 each, the rest proportional to weight */
    const nUsers = Math.min(A, Q);
    const perUser = new Int32Array(nUsers);
    apportion(Q - nUsers, activeBuf.w, nUsers, perUser);
    /** Per active user: the line bytes from the time's `Z` to the properties: `Z","user_id":"…","event_properties":`. */
    const idPieces: Buffer[] = new Array(nUsers);

    const tArr = new Float64Array(Q);
    const tyArr = new Uint8Array(Q);
    const slotArr = new Int32Array(Q);
    let e = 0;
    for (let s = 0; s < nUsers; s++) {
      const u = activeBuf.ids[s];
      idPieces[s] = Buffer.from(`Z","user_id":"${userId(seed, u)}","event_properties":`, "latin1");
      seen[u] = 1;
      let k = perUser[s] + 1;
      const isNew = birth[u] === d;
      let first = true;
      let sessions = 1 + Math.floor(k / 25) + (r() < 0.3 ? 1 : 0);
      sessions = Math.min(sessions, Math.max(1, Math.floor(k / 2)));
      sessions = Math.max(sessions, Math.ceil(k / MAX_SESSION));
      while (k > 0) {
        const m = Math.ceil(k / sessions);
        sessions--;
        k -= m;
        // session types
        const base = e;
        tyArr[e++] = T_OPENED;
        if (m >= 2) {
          let mid = m - 2;
          if (first && isNew && mid > 0 && r() < 0.75) {
            tyArr[e++] = T_SIGNUP;
            mid--;
          }
          for (let j = 0; j < mid; j++) {
            const x = r();
            let c = 0;
            while (x >= MID_CDF[c]) c++;
            const ty = MID_TYPES[c];
            tyArr[e++] = ty;
          }
          tyArr[e++] = T_CLOSED;
        }
        first = false;
        // session times: start hour from the daily curve, exponential gaps (mean 25 s)
        const x = r();
        let h = 0;
        while (h < 23 && x >= HOUR_CDF[h]) h++;
        let t = h * 3.6e9 + Math.floor(r() * 3.6e9);
        let span = 0;
        for (let j = base + 1; j < e; j++) {
          const gap = Math.floor(-Math.log(1 - r()) * 25e6) + 1;
          span += gap;
          tArr[j] = gap;
        }
        if (t + span >= DAY_US) t = DAY_US - 1 - span;
        tArr[base] = t;
        slotArr[base] = s;
        for (let j = base + 1; j < e; j++) {
          t += tArr[j];
          tArr[j] = t;
          slotArr[j] = s;
        }
      }
    }

    /* bucket by 15-minute slot (counting sort), then sort within a slot by time */
    const counts = new Int32Array(SLOTS + 1);
    for (let j = 0; j < Q; j++) counts[Math.floor(tArr[j] / SLOT_US) + 1]++;
    for (let j = 1; j <= SLOTS; j++) counts[j] += counts[j - 1];
    const order = new Int32Array(Q);
    const fill = counts.slice(0, SLOTS);
    for (let j = 0; j < Q; j++) order[fill[Math.floor(tArr[j] / SLOT_US)]++] = j;

    const dayDir = join(opts.dir, `date=${dates[d]}`);
    await mkdir(dayDir, { recursive: true });
    /** Per type: `{"event_type":"…","event_time":"YYYY-MM-DDT`. */
    const heads = HEAD_BYTES.map((h) => Buffer.concat([h, Buffer.from(`${dates[d]}T`, "latin1")]));
    for (let slot = 0; slot < SLOTS; slot++) {
      const lo = counts[slot];
      const hi = counts[slot + 1];
      const n = hi - lo;
      if (n === 0) continue;
      const slotStart = slot * SLOT_US;
      const keys = new Float64Array(n);
      for (let j = 0; j < n; j++) keys[j] = (tArr[order[lo + j]] - slotStart) * KEY_MUL + j;
      keys.sort();
      const fr = prng(hash3(seed, d * SLOTS + slot, 0xf11e));
      let pos = 0;
      for (let j = 0; j < n; j++) {
        const key = keys[j];
        const local = key - Math.floor(key / KEY_MUL) * KEY_MUL;
        const ev = order[lo + local];
        const s = slotArr[ev];
        const ty = tyArr[ev];
        const pr = props(ty, activeBuf.ids[s], seed, fr);
        if (pos + 256 + pr.length * 3 > scratch.length) {
          const grown = Buffer.allocUnsafe(Math.max(scratch.length * 2, pos + 256 + pr.length * 3));
          scratch.copy(grown, 0, 0, pos);
          scratch = grown;
        }
        const buf = scratch;
        const head = heads[ty];
        buf.set(head, pos);
        pos += head.length;
        // HH:MM:SS.ffffff
        const us = tArr[ev];
        const sec = Math.floor(us / 1e6);
        let frac = us - sec * 1e6;
        const hh = (sec / 3600) | 0;
        const mm = ((sec / 60) | 0) % 60;
        const ss = sec % 60;
        buf[pos] = 48 + ((hh / 10) | 0);
        buf[pos + 1] = 48 + (hh % 10);
        buf[pos + 2] = 58;
        buf[pos + 3] = 48 + ((mm / 10) | 0);
        buf[pos + 4] = 48 + (mm % 10);
        buf[pos + 5] = 58;
        buf[pos + 6] = 48 + ((ss / 10) | 0);
        buf[pos + 7] = 48 + (ss % 10);
        buf[pos + 8] = 46;
        for (let i = 14; i >= 9; i--) {
          buf[pos + i] = 48 + (frac % 10);
          frac = (frac / 10) | 0;
        }
        pos += 15;
        const piece = idPieces[s];
        buf.set(piece, pos);
        pos += piece.length;
        pos += buf.write(pr, pos, "utf8");
        buf[pos++] = 125; // }
        buf[pos++] = 10; // \n
      }
      const body = Buffer.from(scratch.subarray(0, pos));
      const gz = mix32(hash3(seed, d * SLOTS + slot, 0x62)) / 4294967296 < o.gzipShare;
      const name = `part-${PAD2[Math.floor(slot / 4)]}${PAD2[(slot % 4) * 15]}.jsonl${gz ? ".gz" : ""}`;
      pending.push(write(join(dayDir, name), body, gz, n));
      if (pending.length >= MAX_PENDING) await pending.shift();
    }
  }
  await Promise.all(pending);
  let users = 0;
  for (let i = 0; i < U; i++) users += seen[i];
  return { events: o.events, files, bytes, users };
}

function pick(list: string[], r: () => number): string {
  return list[Math.floor(r() * list.length)];
}

/** The `event_properties` JSON object text for one event. */
function props(ty: number, u: number, seed: number, r: () => number): string {
  switch (ty) {
    case T_OPENED: {
      const h = hash3(seed, u, 0xa77);
      let s = `{"platform":${PLATFORMS[h % PLATFORMS.length]},"app_version":${VERSIONS[(h >>> 8) % VERSIONS.length]},"country":${COUNTRIES[(h >>> 16) % COUNTRIES.length]}`;
      if (r() < 0.1) s += `,"screen":{"w":${r() < 0.5 ? 1920 : 2560},"h":${r() < 0.5 ? 1080 : 1440}}`;
      return `${s}}`;
    }
    case T_CLOSED:
      return `{"duration_s":${Math.floor(r() * r() * 7200)}}`;
    case T_CLICK: {
      const x = r();
      return `{"button_name":${BUTTONS[Math.floor(x * x * BUTTONS.length)]},"screen":${pick(SCREENS, r)}}`;
    }
    case T_ZOOM: {
      const lv = pick(ZOOMS, r);
      return `{"level":${lv},"direction":${r() < 0.55 ? '"in"' : '"out"'}}`;
    }
    case T_FOPEN:
      return `{"file_name":${fileName(r)},"source":${pick(SOURCES, r)}}`;
    case T_FSAVE:
      return `{"file_name":${fileName(r)},"size_kb":${Math.floor(r() * r() * 20000) + 1},"autosave":${r() < 0.4}}`;
    case T_SIGNUP: {
      const x = r();
      const plan = PLANS[hash3(seed, u, 0x91a) % 100 < 70 ? 0 : x < 0.75 ? 1 : 2];
      const y = r();
      if (y < 0.1) return `{"plan":${plan}}`;
      if (y < 0.25) return `{"plan":${plan},"referrer":null}`;
      return `{"plan":${plan},"referrer":${pick(REFERRERS, r)}}`;
    }
    case T_PURCHASE: {
      const x = r();
      const c = x < 0.7 ? CURRENCIES[0] : x < 0.9 ? CURRENCIES[1] : CURRENCIES[2];
      return `{"revenue":${pick(REVENUES, r)},"currency":${c},"plan":${r() < 0.7 ? PLANS[1] : PLANS[2]}}`;
    }
    default:
      return `{"code":${r() < 0.6 ? 500 : 404},"message":${pick(ERRORS, r)},"fatal":${r() < 0.1}}`;
  }
}

function fileName(r: () => number): string {
  return r() < 0.08 ? pick(ODD_FILES, r) : pick(FILES, r);
}

const MANIFEST = ".evx-lake.json";

/**
 * Generates the lake unless `dir/.evx-lake.json` records a finished generation with the same options.
 * On regeneration the old `date=*` folders are removed first; the manifest is written last.
 */
export async function ensureLake(opts: LakeOptions): Promise<LakeResult & { reused: boolean }> {
  const options = normalize(opts);
  const manifestPath = join(opts.dir, MANIFEST);
  const want = JSON.stringify({ version: 1, ...options, dir: undefined });
  try {
    const m = JSON.parse(await readFile(manifestPath, "utf8")) as { options?: unknown; result?: LakeResult };
    if (m.result && JSON.stringify(m.options) === want) return { ...m.result, reused: true };
  } catch {
    // missing or unreadable manifest → regenerate
  }
  await rm(manifestPath, { force: true });
  if (existsSync(opts.dir)) {
    for (const e of await readdir(opts.dir, { withFileTypes: true })) {
      if (e.isDirectory() && e.name.startsWith("date="))
        await rm(join(opts.dir, e.name), { recursive: true });
    }
  }
  await mkdir(opts.dir, { recursive: true });
  const result = await generateLake(opts);
  await writeFile(manifestPath, `${JSON.stringify({ options: JSON.parse(want), result }, null, 2)}\n`);
  return { ...result, reused: false };
}

/**
 * Lays out hand-made fixture files under `dir` (keys are relative paths with `/`); creates folders and
 * gzips the content when the name ends in `.gz`.
 */
export function writeLakeFiles(dir: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    const path = join(dir, ...rel.split("/"));
    mkdirSync(dirname(path), { recursive: true });
    const buf = typeof content === "string" ? Buffer.from(content, "utf8") : content;
    writeFileSync(path, rel.endsWith(".gz") ? gzipSync(buf) : buf);
  }
}
