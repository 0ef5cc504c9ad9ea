/**
 * Trend formulas (`--formula 'A/B*100'`, docs/semantics.md "Formulas"): a small grammar read by a
 * recursive-descent parser (never eval), evaluated per bucket over the series' aggregated values.
 *
 *   expr   = term (("+" | "-") term)*
 *   term   = factor (("*" | "/") factor)*
 *   factor = ("+" | "-") factor | NUMBER | LETTER | "(" expr ")"
 *
 * LETTER is `A`…`Z`: the series in command-line order. NUMBER is `12`, `1.5`, `.5`, `1e3`.
 */
import { UsageError } from "./errors.js";

export type Formula =
  | { k: "num"; v: number }
  | { k: "var"; i: number }
  | { k: "neg"; a: Formula }
  | { k: "bin"; op: "+" | "-" | "*" | "/"; a: Formula; b: Formula };

const show = (s: string) => JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}…` : s);

/** The letter naming series `i` (0-based). */
export function seriesLetter(i: number): string {
  return String.fromCharCode(65 + i);
}

/**
 * Parses `text` for a trend of `series` series; a one-line `UsageError` for a typo, an unknown
 * character or a letter that names no series.
 */
export function parseFormula(text: string, series: number): Formula {
  const s = text;
  let i = 0;
  const bad = (why: string): never => {
    throw new UsageError(`bad --formula ${show(text)}: ${why}`);
  };
  const skip = () => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  const where = () => (i < s.length ? `at ${show(s.slice(i, i + 10))} (character ${i + 1})` : "at the end");
  const factor = (): Formula => {
    skip();
    const c = s[i];
    if (c === "-" || c === "+") {
      i++;
      const a = factor();
      return c === "-" ? { k: "neg", a } : a;
    }
    if (c === "(") {
      i++;
      const e = expr();
      skip();
      if (s[i] !== ")") bad(`expected ")" ${where()}`);
      i++;
      return e;
    }
    const num = /^(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?/.exec(s.slice(i));
    if (num) {
      i += num[0].length;
      return { k: "num", v: Number(num[0]) };
    }
    if (c !== undefined && /[A-Z]/.test(c)) {
      if (/[A-Za-z0-9_]/.test(s[i + 1] ?? "")) bad(`series are single letters A, B, … ${where()}`);
      const n = c.charCodeAt(0) - 65;
      if (n >= series)
        bad(
          `${c} names no series: the trend has ${series} (${Array.from({ length: series }, (_, j) => seriesLetter(j)).join(", ")})`,
        );
      i++;
      return { k: "var", i: n };
    }
    if (c !== undefined && /[a-z]/.test(c))
      bad(`series are upper-case letters (A, B, …), not ${show(c)} ${where()}`);
    if (c === undefined) bad("expected a letter, a number or ( at the end");
    return bad(`expected a letter, a number or ( ${where()}; allowed: A-Z, numbers, + - * / and ( )`);
  };
  const term = (): Formula => {
    let a = factor();
    for (;;) {
      skip();
      const c = s[i];
      if (c !== "*" && c !== "/") return a;
      i++;
      a = { k: "bin", op: c, a, b: factor() };
    }
  };
  const expr = (): Formula => {
    let a = term();
    for (;;) {
      skip();
      const c = s[i];
      if (c !== "+" && c !== "-") return a;
      i++;
      a = { k: "bin", op: c, a, b: term() };
    }
  };
  if (!s.trim()) bad("empty formula; e.g. 'A/B*100'");
  const f = expr();
  skip();
  if (i < s.length) bad(`unexpected ${where()}; allowed: A-Z, numbers, + - * / and ( )`);
  return f;
}

/** The formula's value for the series values `x` (A = x[0]): null for a division by zero or a value that is not finite. */
export function evalFormula(f: Formula, x: readonly (number | null)[]): number | null {
  const go = (e: Formula): number | null => {
    switch (e.k) {
      case "num":
        return e.v;
      case "var":
        return x[e.i] ?? null;
      case "neg": {
        const a = go(e.a);
        return a === null ? null : -a;
      }
      case "bin": {
        const a = go(e.a);
        const b = go(e.b);
        if (a === null || b === null) return null;
        if (e.op === "/" && b === 0) return null;
        const v = e.op === "+" ? a + b : e.op === "-" ? a - b : e.op === "*" ? a * b : a / b;
        return Number.isFinite(v) ? v : null;
      }
    }
  };
  const v = go(f);
  return v === null || !Number.isFinite(v) ? null : v;
}

/** The letters a formula reads (0-based series indices). */
export function formulaLetters(f: Formula): Set<number> {
  const out = new Set<number>();
  const go = (e: Formula) => {
    if (e.k === "var") out.add(e.i);
    else if (e.k === "neg") go(e.a);
    else if (e.k === "bin") {
      go(e.a);
      go(e.b);
    }
  };
  go(f);
  return out;
}
