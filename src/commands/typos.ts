/**
 * One line for a command line yargs refused, with a suggestion when a word looks mistyped (issue #22):
 * `evx trnd` → `unknown command "trnd"; did you mean trend?`, `evx trend x --brekdown k` → `unknown flag
 * --brekdown for evx trend; did you mean --breakdown?`. The command path comes from the completion spec
 * (the yargs definitions as data), so the `--help` hint names a command that exists, never `evx trnd`.
 */
import { likelyNames } from "../queries/suggest.js";
import { type CommandSpec, loadSpec, parseWords } from "./completion.js";

/** `fooBar` → `foo-bar`: yargs lists an unknown dashed flag twice, once camel-cased. */
const dashed = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function didYouMean(names: string[]): string {
  return names.length ? `; did you mean ${names.join(" or ")}?` : "";
}

/** The names yargs reports in `Unknown argument(s): a, b`, once each, as typed. */
function unknownNames(msg: string): string[] | null {
  const m = /^Unknown arguments?: (.*)$/s.exec(msg);
  if (!m) return null;
  const names = m[1].split(", ").map((n) => n.trim());
  return names.filter((n) => !(n !== dashed(n) && names.includes(dashed(n))));
}

export async function cliFailureLine(msg: string, argv: string[]): Promise<string> {
  let spec: CommandSpec | undefined;
  try {
    spec = await loadSpec();
  } catch {}
  const parsed = spec ? parseWords(spec, [...argv, ""]) : undefined;
  const path = parsed?.path ?? [];
  const cmd = path.at(-1) ?? spec;
  const shown = ["evx", ...path.map((c) => c.name)].join(" ");
  const help = `(see \`${shown} --help\`)`;
  // yargs' own recommendation for a subcommand (`evx clickhouse lod`), said the way the others are.
  const recommended = /^Did you mean (.+)\?$/.exec(msg);
  const stray = parsed?.positionals[0];
  if (recommended && stray)
    return `evx: unknown command ${JSON.stringify(stray)} for ${shown}; did you mean ${recommended[1]}? ${help}`;
  const unknown = unknownNames(msg);
  if (!spec || !cmd || !unknown?.length) return `evx: ${msg} ${help}`;
  const parts: string[] = [];
  for (const name of unknown) {
    const asFlag = argv.some((a) => a.replace(/^--?/, "").split("=")[0] === name && /^-/.test(a));
    if (asFlag) {
      // With no command named, the flags are the default command's (the TUI) and the global ones.
      const scope = path.length ? [cmd, spec] : [spec, ...spec.commands.filter((c) => c.name === "ui")];
      const flags = scope.flatMap((c) => c.flags.flatMap((f) => [f.name, ...f.aliases]));
      const close = likelyNames(name, flags).map((f) => `--${f}`);
      parts.push(`unknown flag --${name} for ${shown}${didYouMean(close)}`);
      continue;
    }
    const subs = cmd.commands.flatMap((c) => [c.name, ...c.aliases]);
    if (subs.length && (path.length === 0 || cmd.commands.length)) {
      const close = likelyNames(
        name,
        subs.filter((c) => c !== "$0"),
      );
      parts.push(
        `unknown command ${JSON.stringify(name)}${path.length ? ` for ${shown}` : ""}${didYouMean(close)}`,
      );
    } else parts.push(`unexpected argument ${JSON.stringify(name)} for ${shown}`);
  }
  return `evx: ${parts.join("; ")} ${help}`;
}
