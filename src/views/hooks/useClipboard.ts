/** The clipboard `y`/`Y` copy to (state/clipboard.ts), provided by the App. */
import { createContext, useContext } from "react";
import type { Clipboard } from "../state/clipboard.js";

export const ClipboardContext = createContext<Clipboard | null>(null);

export function useClipboard(): Clipboard | null {
  return useContext(ClipboardContext);
}
