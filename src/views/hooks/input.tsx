/**
 * One keyboard dispatcher for the whole app. Ink gives every active `useInput` every key, so instead
 * of many hooks racing, the root owns the only `useInput` and hands each key to registered layers,
 * highest priority first: an open overlay or prompt takes keys before the global bindings, which go
 * before the screen under them. A layer returns `true` when it used the key; a `modal` layer swallows
 * every key whether or not it used it.
 *
 * Layers register in a layout effect, so a key that opens a prompt has its layer in place before the
 * next key is dispatched. Keys that arrive together (typed ahead, pasted, or several escape
 * sequences in one read) are queued and dispatched one at a time, each only after the previous
 * key's updates have committed, so `/abc` typed fast opens the filter and then types `abc`.
 */
import { type Key, useInput } from "ink";
import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import { NO_KEY } from "../keymap.js";

export type KeyHandler = (input: string, key: Key) => boolean | undefined;

/** Conventional priorities; anything in between works. */
export const PRIORITY = {
  screen: 10,
  global: 50,
  panel: 70,
  prompt: 90,
  overlay: 100,
  interrupt: 1000,
} as const;

interface Layer {
  id: number;
  priority: number;
  modal: boolean;
  handler: { current: KeyHandler };
}

interface Registry {
  add(layer: Layer): () => void;
  /** Queues a keypress as if typed (the command palette runs an action by its key). */
  dispatch(input: string, key: Key): void;
}

const InputContext = createContext<Registry | null>(null);

/** Single keys of an Ink input event: multi-character text is split into one key per grapheme. */
export function splitKeys(input: string, key: Key): [string, Key][] {
  // ESC then a letter typed quickly (or sent by a script) reads as Alt+letter; evx binds no Alt
  // keys, so treat it as the two keys it most likely was.
  if (key.meta && !key.escape && !key.ctrl && [...input].length === 1 && input >= " ") {
    const [ch, k] = keyOf(input);
    return [
      ["", { ...NO_KEY, escape: true, meta: true }],
      [ch, k],
    ];
  }
  if ([...input].length <= 1 || key.ctrl || key.meta) return [[input, key]];
  const out: [string, Key][] = [];
  const seg = new Intl.Segmenter(undefined, { granularity: "grapheme" });
  for (const { segment } of seg.segment(input)) out.push(keyOf(segment));
  return out;
}

/** Ink's key flags for one character that arrived inside a longer chunk. */
function keyOf(ch: string): [string, Key] {
  const k: Key = { ...NO_KEY };
  if (ch === "\r" || ch === "\n" || ch === "\r\n") return ["", { ...k, return: true }];
  if (ch === "\t") return ["", { ...k, tab: true }];
  if (ch === "\x7f" || ch === "\b") return ["", { ...k, delete: true }];
  const code = ch.codePointAt(0)!;
  if (ch.length === 1 && code >= 1 && code <= 26)
    return [String.fromCharCode(code + 96), { ...k, ctrl: true }];
  if (/^[A-Z]$/.test(ch)) return [ch, { ...k, shift: true }];
  return [ch, k];
}

/**
 * Provides the registry and owns the app's only `useInput`. `isActive` false detaches from stdin
 * entirely (e.g. when stdin cannot be put in raw mode).
 */
export function InputProvider({ children, isActive = true }: { children: ReactNode; isActive?: boolean }) {
  const layers = useRef<Layer[]>([]);
  const queue = useRef<[string, Key][]>([]);
  /** A key was dispatched and its updates have not committed yet. */
  const pending = useRef(false);
  const [tick, setTick] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `step` reads refs and a state setter only
  const registry = useMemo<Registry>(
    () => ({
      add(layer) {
        layers.current = [...layers.current, layer].sort((a, b) => b.priority - a.priority || b.id - a.id);
        return () => {
          layers.current = layers.current.filter((l) => l !== layer);
        };
      },
      dispatch(input, key) {
        queue.current.push([input, key]);
        if (!pending.current) step();
      },
    }),
    [],
  );

  const step = () => {
    const next = queue.current.shift();
    if (!next) return;
    pending.current = true;
    for (const layer of layers.current) {
      const used = layer.handler.current(next[0], next[1]);
      if (used || layer.modal) break;
    }
    // Commits together with whatever the handler changed; the layout effect below then sends the
    // next key, after every layer has its newest handler.
    setTick((t) => t + 1);
  };

  // A passive effect: it runs after the commit's other effects (children first), so the next key
  // also sees what they did (e.g. a newly shown screen publishing its result). The next key goes
  // from a task of its own: dispatched from inside this effect, a paste of more than 50 keys would be
  // one chain of updates scheduled from effects, which React (in development) reports as a loop.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs once per dispatched key's commit
  useEffect(() => {
    if (!pending.current) return;
    if (!queue.current.length) {
      pending.current = false;
      return;
    }
    const t = setTimeout(() => {
      pending.current = false;
      step();
    }, 0);
    return () => clearTimeout(t);
  }, [tick]);

  useInput(
    (input, key) => {
      queue.current.push(...splitKeys(input, key));
      if (!pending.current) step();
    },
    { isActive },
  );

  return <InputContext.Provider value={registry}>{children}</InputContext.Provider>;
}

/**
 * Sends a keypress through the dispatcher as if typed: every layer sees it, highest first. Called
 * from a key handler, it is queued behind the key being handled and dispatched once that key's updates
 * have committed (a palette that closes itself has let go of the keys by then).
 */
export function useDispatchKey(): (input: string, key: Key) => void {
  const registry = useContext(InputContext);
  return useCallback((input: string, key: Key) => registry?.dispatch(input, key), [registry]);
}

let nextLayerId = 1;

export interface KeyLayerOptions {
  priority: number;
  /** When false the layer is not registered (Ink's `isActive`, for layers). Default true. */
  isActive?: boolean;
  /** Swallow every key, used or not (overlays and prompts). */
  modal?: boolean;
}

/** Registers a key handler layer while mounted and active. The newest handler closure is always used. */
export function useKeys(handler: KeyHandler, opts: KeyLayerOptions): void {
  const registry = useContext(InputContext);
  const ref = useRef(handler);
  useLayoutEffect(() => {
    ref.current = handler;
  });
  const active = opts.isActive !== false;
  const modal = !!opts.modal;
  useLayoutEffect(() => {
    if (!registry || !active) return;
    return registry.add({ id: nextLayerId++, priority: opts.priority, modal, handler: ref });
  }, [registry, active, modal, opts.priority]);
}
