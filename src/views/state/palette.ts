/**
 * The command palette's list (`:`, issue #28), generated from the keymap: the bindings of the scopes
 * live on screen (an open panel's, the screen's, then the global ones), without those that would do
 * nothing now, without cursor movement (`nav`), each with the keypress that runs it. The palette
 * sends that keypress through the dispatcher, so an action runs exactly as its key does.
 */
import type { Key } from "ink";
import { type Binding, expandKey, KEYMAP, keyEvent, SCOPES, type Scope } from "../keymap.js";

export interface PaletteAction {
  id: string;
  /** What the action does (the help's description). */
  label: string;
  /** Its keys, as the help shows them. */
  keys: string;
  /** The keypress the palette sends. */
  press: [string, Key];
}

/**
 * `live`: the live scopes with the bindings that would do nothing (`useActions`); `tabs`: the tab
 * titles in order, `current` the index shown (`1-7` becomes one "Go to" action per other tab).
 */
export function paletteActions(
  live: ReadonlyMap<Scope, ReadonlySet<string>>,
  tabs: readonly string[],
  current: number,
): PaletteAction[] {
  const panels = SCOPES.filter((s) => s.panel && live.has(s.scope)).map((s) => s.scope);
  // A live panel takes its keys before the global bindings (`tab` flips its list, `esc` goes back).
  const taken = new Set(
    (KEYMAP as readonly Binding[])
      .filter((b) => panels.includes(b.scope))
      .flatMap((b) => b.keys.flatMap(expandKey)),
  );
  const order = [
    ...panels,
    ...SCOPES.filter((s) => !s.panel && !s.modal && s.scope !== "global" && live.has(s.scope)).map(
      (s) => s.scope,
    ),
    "global" as const,
  ];
  const out: PaletteAction[] = [];
  for (const scope of order) {
    const off = live.get(scope) ?? new Set<string>();
    for (const b of KEYMAP as readonly Binding[]) {
      if (b.scope !== scope || b.nav || off.has(b.id) || b.id === "palette") continue;
      if (scope === "global" && b.keys.flatMap(expandKey).every((k) => taken.has(k))) continue;
      if (b.id === "tab.goto") {
        tabs.forEach((title, i) => {
          const press = keyEvent(String(i + 1));
          if (i !== current && press)
            out.push({ id: `${b.id}.${i + 1}`, label: `Go to ${title}`, keys: String(i + 1), press });
        });
        continue;
      }
      const name = b.keys.find((k) => keyEvent(k) && !(scope === "global" && taken.has(k)));
      if (name === undefined) continue;
      out.push({ id: b.id, label: b.description, keys: b.keys.join("/"), press: keyEvent(name)! });
    }
  }
  return out;
}
