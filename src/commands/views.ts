/** `evx view list|show|rm`: the TUI's saved views (src/views/state/views.ts), from the shell. */
import { cleanText } from "../render/clean.js";
import { readViews, removeView, viewSummary, viewsPath } from "../views/state/views.js";
import { UsageError } from "./errors.js";
import { printJson } from "./output.js";

export async function runView(a: { action: string; name?: string; json?: boolean }): Promise<void> {
  const path = viewsPath();
  const f = readViews(path);
  if (a.action === "list") {
    if (a.json) return printJson({ path, views: f.views });
    const names = Object.keys(f.views).sort();
    if (!names.length) {
      process.stderr.write(`evx: no saved views in ${path} (w in the TUI saves one)\n`);
      return;
    }
    const w = Math.max(...names.map((n) => cleanText(n).length));
    for (const n of names)
      process.stdout.write(`${cleanText(n).padEnd(w)}  ${cleanText(viewSummary(f.views[n]!))}\n`);
    return;
  }
  if (a.name === undefined) throw new UsageError(`evx view ${a.action} needs the view's NAME`);
  const v = f.views[a.name];
  if (!v) {
    const names = Object.keys(f.views);
    throw new UsageError(
      `no saved view ${JSON.stringify(cleanText(a.name))}${names.length ? `; saved: ${names.map(cleanText).join(", ")}` : ""}`,
    );
  }
  if (a.action === "show") return printJson(v);
  removeView(a.name, path);
  process.stderr.write(`evx: removed view ${cleanText(a.name)}\n`);
}
