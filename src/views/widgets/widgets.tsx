/**
 * Small building blocks shared by the screens: a list picker with type-to-filter, a one-line text
 * prompt, a confirmation, a key-hint line and a spinner. Pickers and prompts are modal key layers:
 * while one is open it takes every key, so typing `q` into a filter types a `q`.
 */
import { Box, type Key, Text } from "ink";
import { memo, type ReactNode, useEffect, useMemo, useState } from "react";
import { cleanText, displayWidth, padEnd, truncate } from "../../render/sanitize.js";
import { PRIORITY, useKeys } from "../hooks/input.js";
import { type BindingId, binding, matches } from "../keymap.js";
import { fuzzyFilter } from "./fuzzy.js";

/** Printable text of a keypress, or "" for keys that are not text. */
export function typed(input: string, key: Key): string {
  if (key.ctrl || key.meta || key.return || key.tab || key.escape || key.backspace || key.delete) return "";
  if (key.upArrow || key.downArrow || key.leftArrow || key.rightArrow) return "";
  if (key.pageUp || key.pageDown || key.home || key.end) return "";
  return [...input].filter((c) => c >= " " && c !== "\x7f").join("");
}

/** One line of text, cut to `width` (never wraps). */
export const Line = memo(function Line({
  text,
  width,
  color,
  bold,
  dim,
  inverse,
}: {
  text: string;
  width: number;
  color?: string;
  bold?: boolean;
  dim?: boolean;
  inverse?: boolean;
}) {
  return (
    <Text wrap="truncate" color={color} bold={bold} dimColor={dim} inverse={inverse}>
      {displayWidth(text) > width ? truncate(text, width) : text || " "}
    </Text>
  );
});

/** A line of pre-styled text (SGR codes from the chart widgets). */
export const RawLine = memo(function RawLine({ text }: { text: string }) {
  return <Text wrap="truncate">{text || " "}</Text>;
});

/** Pre-rendered lines, each a RawLine; with `marker`, that row is prefixed `›` (the others a space). */
export const Lines = memo(function Lines({ lines, marker }: { lines: string[]; marker?: number }) {
  return (
    <>
      {lines.map((l, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional
        <RawLine key={i} text={marker === undefined ? l : `${i === marker ? "›" : " "} ${l}`} />
      ))}
    </>
  );
});

export function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, n));
}

/** First visible row keeping `cursor` on screen, given the previous top. */
export function scrollTop(prevTop: number, cursor: number, visible: number, total: number): number {
  if (visible <= 0) return 0;
  let top = prevTop;
  if (cursor < top) top = cursor;
  if (cursor >= top + visible) top = cursor - visible + 1;
  return clamp(top, 0, Math.max(0, total - visible));
}

export interface PickItem<T> {
  label: string;
  value: T;
  /** Dim text after the label. */
  hint?: string;
}

export interface ListPickerProps<T> {
  title: string;
  items: PickItem<T>[];
  width: number;
  height: number;
  onPick: (item: PickItem<T>, query: string) => void;
  onCancel: () => void;
  /** Type-to-filter (default true). */
  filterable?: boolean;
  /** Text shown under the list. */
  footer?: string;
  initialIndex?: number;
  /** Shown when the list is empty (e.g. still loading). */
  empty?: string;
  /** Offer the typed text itself as a choice when it is not empty. */
  custom?: (query: string) => PickItem<T> | null;
}

/**
 * A modal list: up/down/pgup/pgdn move, typing filters (fuzzy: the letters in order, best match first,
 * matched letters highlighted; `fuzzy.ts`), enter picks.
 */
export function ListPicker<T>(props: ListPickerProps<T>) {
  const { items, width, height, filterable = true } = props;
  const [query, setQuery] = useState("");
  const [cursor, setCursor] = useState(props.initialIndex ?? 0);
  const [top, setTop] = useState(0);
  const matched = useMemo(() => {
    const q = query.trim();
    const list = fuzzyFilter(items, q);
    const extra = props.custom && q ? props.custom(q) : null;
    return extra && !list.some((m) => m.item.label === extra.label)
      ? [...list, { item: extra, positions: [] as number[] }]
      : list;
  }, [items, query, props.custom]);
  const shown = useMemo(() => matched.map((m) => m.item), [matched]);
  const listH = Math.max(1, height - 3 - (filterable ? 1 : 0) - (props.footer ? 1 : 0));
  const cur = clamp(cursor, 0, Math.max(0, shown.length - 1));
  const first = scrollTop(top, cur, listH, shown.length);
  useEffect(() => {
    if (first !== top) setTop(first);
  }, [first, top]);

  useKeys(
    (input, key) => {
      if (key.escape) props.onCancel();
      else if (matches("picker.accept", input, key)) {
        const item = shown[cur];
        if (item) props.onPick(item, query);
      } else if (matches("picker.up", input, key)) setCursor(Math.max(0, cur - 1));
      else if (matches("picker.down", input, key)) setCursor(Math.min(shown.length - 1, cur + 1));
      else if (matches("picker.pageUp", input, key)) setCursor(Math.max(0, cur - listH));
      else if (matches("picker.pageDown", input, key)) setCursor(Math.min(shown.length - 1, cur + listH));
      else if (filterable && matches("picker.erase", input, key)) {
        setQuery((q) => [...q].slice(0, -1).join(""));
        setCursor(0);
      } else if (filterable) {
        const t = typed(input, key);
        if (t) {
          setQuery((q) => q + t);
          setCursor(0);
        }
      }
      return true;
    },
    { priority: PRIORITY.prompt, modal: true },
  );

  const inner = Math.max(1, width - 4);
  const visible = shown.slice(first, first + listH);
  const labelW = Math.min(
    Math.max(8, ...visible.map((i) => displayWidth(cleanText(i.label)))),
    Math.max(8, Math.floor(inner * 0.6)),
  );
  return (
    <Box
      flexDirection="column"
      borderStyle="round"
      borderColor="cyan"
      width={width}
      height={Math.min(
        height,
        Math.min(listH, Math.max(1, shown.length)) + 3 + (filterable ? 1 : 0) + (props.footer ? 1 : 0),
      )}
      paddingX={1}
    >
      <Line text={props.title} width={inner} bold />
      {filterable ? <Line text={`filter: ${query}▏`} width={inner} color="cyan" /> : null}
      {visible.length === 0 ? (
        <Line text={props.empty ?? (query ? "no match" : "nothing to pick")} width={inner} dim />
      ) : (
        visible.map((item, i) => {
          const label = padEnd(cleanText(item.label), labelW);
          const hint = item.hint ? `  ${cleanText(item.hint)}` : "";
          const text = truncate(`${first + i === cur ? "›" : " "} ${label}${hint}`, inner);
          // The matched letters, shifted past the marker (cleanText keeps printable labels as they are).
          const hit = new Set((matched[first + i]?.positions ?? []).map((p) => p + 2));
          return (
            <Text
              // biome-ignore lint/suspicious/noArrayIndexKey: a window over the filtered list
              key={`${first + i}:${item.label}`}
              wrap="truncate"
              inverse={first + i === cur}
            >
              {hit.size ? highlighted(text, hit) : text || " "}
            </Text>
          );
        })
      )}
      {props.footer ? <Line text={props.footer} width={inner} dim /> : null}
    </Box>
  );
}

/** `text` with the characters at `hit` (code-point indices) bold and yellow. */
function highlighted(text: string, hit: Set<number>): ReactNode[] {
  const out: ReactNode[] = [];
  let run = "";
  let on = false;
  const flush = (k: number) => {
    if (!run) return;
    out.push(
      on ? (
        <Text key={k} bold color="yellow">
          {run}
        </Text>
      ) : (
        run
      ),
    );
    run = "";
  };
  [...text].forEach((c, i) => {
    const h = hit.has(i);
    if (h !== on) {
      flush(i);
      on = h;
    }
    run += c;
  });
  flush(text.length + 1);
  return out;
}

export interface TextPromptProps {
  title: string;
  initial?: string;
  /**
   * The initial text starts selected: the first typed character replaces it and backspace clears it
   * (a number prompt showing `5` becomes `3` on `3`, not `53`). Default false.
   */
  selectInitial?: boolean;
  width: number;
  /** Lines of help under the input. */
  help?: string[];
  /** Returns an error message for invalid text, or null. */
  validate?: (text: string) => string | null;
  onSubmit: (text: string) => void;
  onCancel: () => void;
}

/** A modal one-line text input: typing edits, backspace deletes, enter submits when valid. */
export function TextPrompt(props: TextPromptProps) {
  const [text, setText] = useState(props.initial ?? "");
  const [selected, setSelected] = useState(!!props.selectInitial && !!props.initial);
  const [error, setError] = useState<string | null>(null);
  useKeys(
    (input, key) => {
      if (key.escape) props.onCancel();
      else if (matches("picker.accept", input, key)) {
        const err = props.validate?.(text) ?? null;
        if (err) setError(err);
        else props.onSubmit(text);
      } else if (matches("picker.erase", input, key)) {
        setText((t) => (selected ? "" : [...t].slice(0, -1).join("")));
        setSelected(false);
        setError(null);
      } else {
        const t = typed(input, key);
        if (t) {
          setText((x) => (selected ? t : x + t));
          setSelected(false);
          setError(null);
        }
      }
      return true;
    },
    { priority: PRIORITY.prompt, modal: true },
  );
  const inner = Math.max(1, props.width - 4);
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="cyan" width={props.width} paddingX={1}>
      <Line text={props.title} width={inner} bold />
      {selected ? (
        <Text wrap="truncate" color="cyan">
          {"> "}
          <Text inverse>{truncate(cleanText(text), Math.max(1, inner - 3))}</Text>▏
        </Text>
      ) : (
        <Line text={`> ${text}▏`} width={inner} color="cyan" />
      )}
      {error ? <Line text={error} width={inner} color="red" /> : null}
      {(props.help ?? []).map((h) => (
        <Line key={h} text={h} width={inner} dim />
      ))}
      <Line text="enter apply · esc cancel" width={inner} dim />
    </Box>
  );
}

/** A modal yes/no question: `y` confirms, anything else cancels. */
export function Confirm(props: { text: string; width: number; onYes: () => void; onNo: () => void }) {
  useKeys(
    (input, key) => {
      if (matches("picker.yes", input, key)) props.onYes();
      else props.onNo();
      return true;
    },
    { priority: PRIORITY.prompt, modal: true },
  );
  const inner = Math.max(1, props.width - 4);
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="yellow" width={props.width} paddingX={1}>
      <Line text={props.text} width={inner} bold />
      <Line text="y confirm · any other key cancels" width={inner} dim />
    </Box>
  );
}

/** `key description` pairs from the keymap, as many as fit. */
export function HintLine({ ids, width, extra }: { ids: BindingId[]; width: number; extra?: string }) {
  const parts = ids.map((id) => {
    const b = binding(id);
    return `${b.keys.join("/")} ${shortDescription(b.description)}`;
  });
  let line = extra ?? "";
  for (const p of parts) {
    const next = line ? `${line}  ${p}` : p;
    if (displayWidth(next) > width) break;
    line = next;
  }
  return <Line text={line} width={width} dim />;
}

function shortDescription(d: string): string {
  return d.replace(/^(Go to|Toggle this) /, "").toLowerCase();
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** Re-renders every `ms` while `active`; returns the tick count. */
export function useTicker(active: boolean, ms = 120): number {
  const [n, setN] = useState(0);
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setN((x) => x + 1), ms);
    return () => clearInterval(t);
  }, [active, ms]);
  return n;
}

export function spinnerFrame(tick: number, ascii = false): string {
  return ascii ? "|/-\\"[tick % 4]! : FRAMES[tick % FRAMES.length]!;
}

/** A box with a title, for panels inside screens. */
export function Panel({ title, width, children }: { title?: string; width: number; children: ReactNode }) {
  return (
    <Box flexDirection="column" width={width}>
      {title ? <Line text={title} width={width} bold /> : null}
      {children}
    </Box>
  );
}
