/**
 * The settings line under the tab bar (`Funnel · window 1d · compare – · breakdown – · where …`).
 * It is a list of tokens — one per setting, one per filter — and it never cuts through the middle of
 * the list: what does not fit the first line wraps, at a token boundary, onto a second one, and what
 * does not fit that either is counted as `+N more` at its end. The whole text is in the `?` help.
 */
import { Text } from "ink";
import { formatFilter } from "../../queries/parse.js";
import type { Filter } from "../../queries/spec.js";
import { cleanText, displayWidth, truncate } from "../../render/sanitize.js";
import { Line } from "./widgets.js";

export interface SettingToken {
  text: string;
  /** What joins it to the token before on the same line (` · ` between settings, `, ` between filters). */
  sep: string;
}

/**
 * Tokens from the parts of a settings line, in order: a string is one setting, a list of filters is
 * `where a=1`, `b=2`, … (`where –` without any); falsy parts are skipped. Control characters are
 * stripped.
 */
export function settingTokens(...parts: (string | Filter[] | false | null | undefined)[]): SettingToken[] {
  const out: SettingToken[] = [];
  for (const p of parts) {
    if (p === false || p === null || p === undefined || p === "") continue;
    if (typeof p === "string") out.push({ text: cleanText(p), sep: " · " });
    else if (p.length === 0) out.push({ text: "where –", sep: " · " });
    else
      p.forEach((f, i) => {
        out.push({
          text: cleanText(`${i === 0 ? "where " : ""}${formatFilter(f)}`),
          sep: i === 0 ? " · " : ", ",
        });
      });
  }
  return out;
}

/** The whole settings text on one line (for the help, and when it fits). */
export function settingsText(title: string, tokens: SettingToken[]): string {
  return title + tokens.map((t, i) => (i ? t.sep : "") + t.text).join("");
}

const more = (n: number) => ` +${n} more`;

export interface SettingsLayout {
  lines: string[];
  /** Tokens left out (counted by `+N more`). */
  hidden: number;
  /** Some of the text is not on screen (tokens left out, or one cut): the help shows `full`. */
  cut: boolean;
  /** The whole text, for the help. */
  full: string;
}

/**
 * The settings as at most `maxLines` lines of `width` columns, the first `reserve` columns shorter
 * (the query state goes at its end). Lines break between tokens; a token wider than a whole line is
 * cut (`…`); tokens that do not fit the last line are counted as `+N more`.
 */
export function settingsLayout(
  title: string,
  tokens: SettingToken[],
  width: number,
  reserve = 0,
  maxLines = 2,
): SettingsLayout {
  const full = settingsText(title, tokens);
  if (displayWidth(full) + reserve <= width) return { lines: [full], hidden: 0, cut: false, full };
  const lines: string[] = [];
  let i = 0;
  let cut = false;
  for (let li = 0; li < maxLines && i < tokens.length; li++) {
    const room = Math.max(1, width - (li === 0 ? reserve : 0));
    const last = li === maxLines - 1;
    let line = li === 0 ? title : "";
    let placed = 0;
    while (i < tokens.length) {
      const t = tokens[i]!;
      const piece = (placed ? t.sep : "") + t.text;
      const rest = tokens.length - i - 1;
      const keep = last && rest > 0 ? displayWidth(more(rest)) : 0;
      if (displayWidth(line + piece) + keep <= room) {
        line += piece;
      } else if (line === "") {
        // Wider than a whole line: cut it, so the settings after it still show (or are counted).
        line = truncate(piece, Math.max(1, room - keep));
        cut = true;
      } else break;
      placed++;
      i++;
    }
    lines.push(line);
  }
  const hidden = tokens.length - i;
  if (hidden) lines[lines.length - 1] += more(hidden);
  return { lines, hidden, cut: cut || hidden > 0, full };
}

/**
 * Columns the layout keeps free on the first line for the query state: an error or a cancel (they
 * stay), but not ` · running…`, which would move every line below it at each query; while a query
 * runs the first line's end is cut for it instead.
 */
export function stateRoom(state: string, stateColor: string | undefined): number {
  return stateColor ? displayWidth(state) : 0;
}

/** The laid-out settings lines: the query state after the first one. */
export function SettingsLines({
  layout,
  state,
  stateColor,
  width,
  dim,
}: {
  layout: SettingsLayout;
  state: string;
  stateColor?: string;
  width: number;
  /** Dim text, the state in its own colour (Trends); else the whole line in the state's colour. */
  dim?: boolean;
}) {
  const [first = "", ...rest] = layout.lines;
  const firstText = truncate(first, Math.max(0, width - displayWidth(state)));
  return (
    <>
      {dim ? (
        <Text wrap="truncate">
          <Text dimColor>{firstText}</Text>
          <Text color={stateColor} dimColor={!stateColor}>
            {state}
          </Text>
        </Text>
      ) : (
        <Line text={`${firstText}${state}`} width={width} color={stateColor} />
      )}
      {rest.map((l) => (
        <Line key={l} text={l} width={width} color={dim ? undefined : stateColor} dim={dim} />
      ))}
    </>
  );
}
