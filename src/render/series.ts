/** Names of result series, shared by both faces so the TUI and the headless output agree. */
import type { TrendResult } from "../queries/spec.js";

/** A series' legend label: the event, its breakdown value, or just the value when one event is shown. */
export function seriesLabel(s: TrendResult["series"][number], result: TrendResult): string {
  if (s.breakdown === null) return s.event;
  const oneEvent = result.series.every((x) => x.event === s.event);
  return oneEvent ? s.breakdown : `${s.event} · ${s.breakdown}`;
}

/**
 * A trend with a formula, as the result the charts and tables draw: one series per formula series
 * (named by the formula's text, or its breakdown value), a `null` value (a division by zero) as NaN,
 * which the chart draws at 0 and the tables print as `–`. Without a formula, the result itself.
 */
export function formulaView(r: TrendResult): TrendResult {
  if (!r.formula) return r;
  const text = r.formula.text;
  const pts = (ps: { t: string; value: number | null; incomplete?: true }[]) =>
    ps.map((p) => ({
      t: p.t,
      value: p.value ?? Number.NaN,
      ...(p.incomplete ? { incomplete: true as const } : {}),
    }));
  return {
    ...r,
    // The legend names the formula by its text (and the breakdown value): `A/B*100 · pro`.
    series: r.formula.series.map((fs) => ({
      event: fs.breakdown === null ? text : `${text} · ${fs.breakdown}`,
      breakdown: null,
      points: pts(fs.points),
      total: fs.total ?? Number.NaN,
      ...(fs.compare
        ? {
            compare: {
              ...fs.compare,
              points: pts(fs.compare.points),
              total: fs.compare.total ?? Number.NaN,
            },
          }
        : {}),
    })),
  };
}

/** `A = checkout_error, B = checkout_started`: the letters of a formula's series. */
export function formulaLegend(r: TrendResult): string {
  const events = [...new Set(r.series.map((s) => s.event))];
  return events.map((e, i) => `${String.fromCharCode(65 + i)} = ${e}`).join(", ");
}
