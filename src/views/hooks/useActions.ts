/**
 * What the command palette (`:`) may offer: each screen or panel says, next to its key handler, that
 * its scope's bindings are live (while its key layer is active) and which of them would do nothing
 * right now (no events to remove, no filters to clear, no result to list users of). The palette reads
 * this when it opens and lists the live scopes' bindings minus those.
 */
import { createContext, useContext, useLayoutEffect, useRef } from "react";
import type { BindingId, Scope } from "../keymap.js";

export interface ActionsRegistry {
  /** `off` null: the owner's scope is not live any more. */
  set(owner: object, scope: Scope, off: readonly string[] | null): void;
  /** The live scopes, in the order they became live, each with its bindings that would do nothing. */
  live(): Map<Scope, Set<string>>;
}

export function createActionsRegistry(): ActionsRegistry {
  const owners = new Map<object, { scope: Scope; off: readonly string[] }>();
  return {
    set(owner, scope, off) {
      if (off === null) owners.delete(owner);
      else owners.set(owner, { scope, off });
    },
    live() {
      const out = new Map<Scope, Set<string>>();
      for (const { scope, off } of owners.values()) {
        const s = out.get(scope) ?? new Set<string>();
        for (const id of off) s.add(id);
        out.set(scope, s);
      }
      return out;
    },
  };
}

export const ActionsContext = createContext<ActionsRegistry | null>(null);

/**
 * Declares `scope`'s bindings live while `active` (pass the key layer's `isActive`), except those in
 * `off` (`false` entries are skipped: `[!n && "trends.remove"]`).
 */
export function useActions(
  scope: Scope,
  off: readonly (BindingId | false | null | undefined)[],
  active = true,
): void {
  const registry = useContext(ActionsContext);
  const owner = useRef({}).current;
  const key = off.filter(Boolean).join(" ");
  useLayoutEffect(() => {
    if (!registry || !active) return;
    registry.set(owner, scope, key ? key.split(" ") : []);
    return () => registry.set(owner, scope, null);
  }, [registry, owner, scope, key, active]);
}
