import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { RetentionResult } from "../../src/queries/spec.js";
import {
  bar,
  bars,
  INCOMPLETE_MARK,
  type LineSeries,
  lineChart,
  resample,
  retentionGrid,
  shade,
  shadeCell,
  sparkline,
  useColor,
} from "../../src/render/charts.js";
import { displayWidth, stripSgr } from "../../src/render/sanitize.js";

const SGR = /\x1b\[/;
const days = (n: number) =>
  Array.from({ length: n }, (_, i) => new Date(Date.UTC(2023, 5, 1 + i)).toISOString().slice(5, 10));
const wave = (n: number, scale = 1000) =>
  Array.from({ length: n }, (_, i) => Math.round(scale * (1.5 + Math.sin(i / 5))));

function assertFits(lines: string[], width: number, label: string) {
  lines.forEach((l, i) => {
    assert.ok(
      displayWidth(l) <= width,
      `${label}: line ${i} is ${displayWidth(l)} > ${width}: ${JSON.stringify(l)}`,
    );
  });
}

describe("lineChart", () => {
  for (const width of [40, 80, 200]) {
    for (const color of [false, true]) {
      for (const n of [1, 7, 30, 365]) {
        it(`fits ${width} columns (${n} points, color=${color})`, () => {
          const lines = lineChart(
            [
              { label: "page_viewed", values: wave(n) },
              { label: "signup_completed", values: wave(n, 300) },
            ],
            { width, height: 14, xLabels: days(n), color },
          );
          assert.equal(lines.length, 14);
          assertFits(lines, width, `w=${width} n=${n}`);
          assert.equal(SGR.test(lines.join("")), color);
        });
      }
    }
  }

  it("draws a legend row with every series label and an x-axis row", () => {
    const lines = lineChart(
      [
        { label: "alpha", values: [1, 2, 3] },
        { label: "beta", values: [3, 2, 1] },
      ],
      { width: 60, height: 10, xLabels: ["06-01", "06-02", "06-03"], color: false },
    );
    const legend = lines.at(-1)!;
    assert.match(legend, /alpha/);
    assert.match(legend, /beta/);
    // Without colour the second series uses a distinct marker, in the plot and the legend.
    assert.match(legend, /\*\* beta/);
    assert.ok(lines.slice(0, -2).some((l) => l.includes("*")));
    const axis = lines.at(-2)!;
    assert.match(axis, /06-01/);
    assert.match(axis, /06-03/);
  });

  it("a legend short of room cuts event names before breakdown values", () => {
    const series = ["save", "open", "share"].flatMap((v) =>
      ["button_clicked", "page_viewed"].map((e) => ({ label: `${e} · ${v}`, values: [1, 2, 3] })),
    );
    const lines = lineChart(series, { width: 100, height: 8, xLabels: [], color: false });
    const legend = lines.at(-1)!;
    assertFits([legend], 100, "legend");
    const items = legend.split(/\s{2,}/);
    assert.equal(items.length, series.length, legend);
    for (const [i, item] of items.entries()) {
      assert.ok(item.endsWith(` · ${series[i]!.label.split(" · ")[1]}`), legend);
    }
  });

  it("coloured legends keep labels readable", () => {
    const lines = lineChart([{ label: "alpha", values: [1, 2] }], {
      width: 40,
      height: 6,
      xLabels: [],
      color: true,
    });
    assert.match(stripSgr(lines.at(-1)!), /── alpha/);
  });

  it("downsamples long series to the columns available", () => {
    const n = 5000;
    const values = Array.from({ length: n }, (_, i) => i % 100);
    const lines = lineChart([{ label: "x", values }], { width: 50, height: 8, xLabels: [], color: false });
    assertFits(lines, 50, "5000 points");
    // The plot area is one column per point after resampling: far fewer than 5000.
    assert.ok(Math.max(...lines.map(displayWidth)) <= 50);
  });

  it("handles all-zero, single-point and empty input", () => {
    const zero = lineChart([{ label: "z", values: [0, 0, 0, 0] }], {
      width: 40,
      height: 8,
      xLabels: ["a", "b", "c", "d"],
      color: false,
    });
    assert.equal(zero.length, 8);
    assertFits(zero, 40, "zero");
    assert.ok(
      zero.some((l) => l.includes("─")),
      "a flat line is drawn",
    );

    const one = lineChart([{ label: "one", values: [42] }], {
      width: 40,
      height: 8,
      xLabels: ["06-01"],
      color: false,
    });
    assert.equal(one.length, 8);
    assert.match(one.join("\n"), /42/);
    assert.match(one.join("\n"), /06-01/);

    const empty = lineChart([], { width: 40, height: 8, xLabels: [], color: false });
    assert.equal(empty.length, 8);
    assert.match(empty[0]!, /no data/);
    assert.deepEqual(
      lineChart([{ label: "e", values: [] }], { width: 40, height: 3, xLabels: [], color: true }),
      ["no data", "", ""],
    );
  });

  it("degrades at tiny sizes without exceeding the width", () => {
    for (const [w, h] of [
      [10, 3],
      [5, 2],
      [3, 5],
      [1, 1],
      [20, 1],
    ] as const) {
      const lines = lineChart([{ label: "series", values: wave(50) }], {
        width: w,
        height: h,
        xLabels: days(50),
        color: false,
      });
      assert.ok(lines.length <= h, `${w}x${h}`);
      assertFits(lines, w, `${w}x${h}`);
    }
  });
});

/** One drawn cell of a chart line: its character and whether it is drawn dim (SGR 2). */
function cellsOf(line: string): { ch: string; dim: boolean }[] {
  const out: { ch: string; dim: boolean }[] = [];
  let dim = false;
  for (let i = 0; i < line.length; ) {
    const sgr = /^\x1b\[([0-9;]*)m/.exec(line.slice(i));
    if (sgr) {
      const codes = sgr[1]!.split(";");
      if (codes.includes("0") || sgr[1] === "") dim = false;
      if (codes.includes("2")) dim = true;
      i += sgr[0].length;
      continue;
    }
    const ch = String.fromCodePoint(line.codePointAt(i)!);
    out.push({ ch, dim });
    i += ch.length;
  }
  return out;
}

/** The plot rows of a chart (the first `rows` lines): each row's y label and its plot cells. */
function plotOf(lines: string[], rows: number): { label: string; cells: { ch: string; dim: boolean }[] }[] {
  return lines.slice(0, rows).map((l) => {
    const cells = cellsOf(l);
    const axis = cells.findIndex((c) => c.ch === "┤" || c.ch === "|");
    assert.ok(axis >= 0, `no axis in ${JSON.stringify(l)}`);
    return {
      label: cells
        .slice(0, axis)
        .map((c) => c.ch)
        .join("")
        .trim(),
      cells: cells.slice(axis + 1),
    };
  });
}

const drawn = (cells: { ch: string }[]) => cells.some((c) => c.ch !== " ");
const FACES = [
  { name: "colour", color: true, ascii: false },
  { name: "NO_COLOR", color: false, ascii: false },
  { name: "NO_COLOR ascii", color: false, ascii: true },
] as const;

describe("lineChart never loses a spike", () => {
  const width = 40;
  const height = 10;
  const rows = height - 2; // plot rows above the x-axis and legend rows
  const n = 4 * width - 3; // about five points per plot column, not a multiple of it
  const calm = (k: number, level: number) => Array.from({ length: k }, (_, i) => level + ((i * 7) % 5));

  for (const face of FACES) {
    it(`a one-bucket spike at every position reaches the top row, labelled with its value (${face.name})`, () => {
      for (let i = 0; i < n; i++) {
        const values = calm(n, 10);
        values[i] = 154;
        const lines = lineChart([{ label: "error_shown", values }], { width, height, xLabels: [], ...face });
        assertFits(lines, width, `spike at ${i}`);
        const plot = plotOf(lines, rows);
        assert.equal(plot[0]!.label, "154", `spike at ${i}`);
        assert.ok(drawn(plot[0]!.cells), `spike at ${i} is not drawn:\n${lines.map(stripSgr).join("\n")}`);
      }
    });

    it(`a one-bucket dip at every position reaches the bottom row (${face.name})`, () => {
      for (const low of [0, -40]) {
        for (let i = 0; i < n; i++) {
          const values = calm(n, 100);
          values[i] = low;
          const lines = lineChart([{ label: "x", values }], { width, height, xLabels: [], ...face });
          const plot = plotOf(lines, rows);
          assert.equal(plot[rows - 1]!.label, String(low), `dip at ${i}`);
          assert.ok(
            drawn(plot[rows - 1]!.cells),
            `dip to ${low} at ${i} is not drawn:\n${lines.map(stripSgr).join("\n")}`,
          );
        }
      }
    });

    it(`a spike in a second series reaches the top row (${face.name})`, () => {
      for (let i = 0; i < n; i += 7) {
        const spiky = calm(n, 3);
        spiky[i] = 90;
        const lines = lineChart(
          [
            { label: "a", values: calm(n, 40) },
            { label: "b", values: spiky },
          ],
          { width, height, xLabels: [], ...face },
        );
        const plot = plotOf(lines, rows);
        assert.equal(plot[0]!.label, "90");
        assert.ok(drawn(plot[0]!.cells), `spike at ${i}:\n${lines.map(stripSgr).join("\n")}`);
      }
    });
  }

  it("the axis top and bottom are always reached by a line (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: -500, max: 500 }), { minLength: 1, maxLength: 400 }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.integer({ min: 12, max: 120 }),
        fc.integer({ min: 4, max: 20 }),
        fc.constantFrom(...FACES),
        fc.boolean(),
        (values, w, h, face, stretch) => {
          const series: LineSeries[] = values.map((v, i) => ({ label: `s${i}`, values: v }));
          const lines = lineChart(series, { width: w, height: h, xLabels: [], stretch, ...face });
          assertFits(lines, w, "property");
          const plot = plotOf(lines, h - 2);
          const all = values.flat();
          if (Math.max(...all) > 0) assert.ok(drawn(plot[0]!.cells), lines.map(stripSgr).join("\n"));
          if (Math.min(...all) < 0) assert.ok(drawn(plot.at(-1)!.cells), lines.map(stripSgr).join("\n"));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("the height-1 sparkline keeps a spike too", () => {
    for (let i = 0; i < 100; i++) {
      const values = calm(100, 10);
      values[i] = 154;
      // Its column is full and the calm ones stay low: the spike is not averaged down to them.
      const line = sparkline(values, 20);
      assert.equal(line.replace(/[▁▂]/g, ""), "█", `spike at ${i}: ${line}`);
    }
  });
});

describe("lineChart incomplete points", () => {
  const DOTTED = new Set(["┈", "┊", ":"]);
  /** Plot columns holding a dotted glyph (or, with colour, a dim one), over all plot rows. */
  const dottedColumns = (plot: ReturnType<typeof plotOf>, color: boolean) => {
    const cols = new Set<number>();
    for (const r of plot)
      r.cells.forEach((c, x) => {
        if (c.ch !== " " && (color ? c.dim : DOTTED.has(c.ch))) cols.add(x);
      });
    return [...cols].sort((a, b) => a - b);
  };

  for (const face of FACES) {
    it(`are dotted${face.color ? " and dim" : ""}, and the legend says what that means (${face.name})`, () => {
      const values = [5, 8, 6, 9, 12, 10, 14, 13, 4];
      const incomplete = values.map((_, i) => i >= 7);
      const lines = lineChart([{ label: "a", values, incomplete }], {
        width: 40,
        height: 12,
        xLabels: [],
        stretch: false,
        ...face,
      });
      const plot = plotOf(lines, 10);
      // One column per point: 7 and 8 (and the segments into them) are drawn dotted, the rest solid.
      assert.deepEqual(dottedColumns(plot, face.color), [7, 8]);
      for (const r of plot)
        r.cells.forEach((c, x) => {
          if (c.ch === " ") return;
          assert.equal(DOTTED.has(c.ch), x >= 7, `column ${x}: ${c.ch}`);
          if (face.color) assert.equal(c.dim, x >= 7, `column ${x} dim`);
        });
      const legend = stripSgr(lines.at(-1)!);
      assert.match(legend, face.ascii ? /:: incomplete/ : /┈┈ incomplete/);
      const complete = lineChart([{ label: "a", values, incomplete: values.map(() => false) }], {
        width: 40,
        height: 12,
        xLabels: [],
        ...face,
      });
      assert.doesNotMatch(complete.at(-1)!, /incomplete/);
      assert.ok(!complete.slice(0, 10).some((l) => /[┈┊:]/.test(stripSgr(l).slice(4))));
    });
  }

  it("when downsampling, a column is incomplete if any point merged into it is", () => {
    const n = 300;
    const values = Array.from({ length: n }, (_, i) => 50 + ((i * 13) % 40));
    for (let i = 0; i < n; i++) {
      const incomplete = values.map((_, k) => k === i);
      const lines = lineChart([{ label: "x", values, incomplete }], {
        width: 60,
        height: 10,
        xLabels: [],
        color: false,
      });
      const plot = plotOf(lines, 8);
      const m = 60 - displayWidth(stripSgr(lines[0]!).split("┤")[0]!) - 1; // plot columns
      // The bucket holding point i: columns c cover points [⌊c·n/m⌋, ⌊(c+1)·n/m⌋).
      let c = 0;
      while (Math.floor(((c + 1) * n) / m) <= i) c++;
      assert.deepEqual(dottedColumns(plot, false), [c], `point ${i}`);
    }
  });

  it("stretched, the segment into an incomplete point is dotted", () => {
    const lines = lineChart([{ label: "x", values: [1, 4, 2, 3], incomplete: [false, false, false, true] }], {
      width: 40,
      height: 10,
      xLabels: [],
      color: false,
    });
    const plot = plotOf(lines, 8);
    const m = 40 - displayWidth(stripSgr(lines[0]!).split("┤")[0]!) - 1;
    const third = Math.round((2 * (m - 1)) / 3); // the column of point 2
    const dotted = dottedColumns(plot, false);
    assert.deepEqual(
      dotted,
      Array.from({ length: m - 1 - third }, (_, k) => third + 1 + k),
    );
  });
});

describe("resample", () => {
  it("bucket-means or keeps maxima when shrinking", () => {
    const v = [1, 3, 5, 7, 100, 0];
    assert.deepEqual(
      resample(v, 3, "mean").map((c) => c.value),
      [2, 6, 50],
    );
    assert.deepEqual(
      resample(v, 3, "max").map((c) => c.value),
      [3, 7, 100],
    );
    assert.deepEqual(
      resample(v, 3).map((c) => c.source),
      [0, 2, 4],
    );
  });

  it("stretches short series, keeping real points and their labels", () => {
    const cols = resample([0, 10], 11);
    assert.equal(cols.length, 11);
    assert.equal(cols[0]!.value, 0);
    assert.equal(cols[10]!.value, 10);
    assert.equal(cols[5]!.value, 5);
    assert.deepEqual(
      cols.filter((c) => c.source >= 0).map((c) => c.source),
      [0, 1],
    );
  });
});

describe("bars", () => {
  const rows = [
    { label: "signup", value: 1000, note: "100.0%" },
    { label: "activate", value: 500, note: "50.0%" },
    { label: "purchase", value: 250, note: "25.0%" },
    { label: "zero", value: 0, note: "0.0%" },
  ];

  it("draws bars proportional to value", () => {
    const lines = bars(rows, { width: 80, color: false });
    assertFits(lines, 80, "bars");
    const len = (l: string) => (l.match(/[█▉▊▋▌▍▎▏]/g) ?? []).length;
    const full = (l: string) => (l.match(/█/g) ?? []).length;
    const a = full(lines[0]!);
    assert.ok(a > 20);
    assert.ok(Math.abs(full(lines[1]!) - a / 2) <= 1);
    assert.ok(Math.abs(full(lines[2]!) - a / 4) <= 1);
    assert.equal(len(lines[3]!), 0);
    assert.match(lines[0]!, /1,000\s+100\.0%$/);
    assert.match(lines[1]!, /^activate/);
  });

  it("uses eighth blocks for fractions", () => {
    assert.equal(bar(0.5, 3), "█▌ ");
    assert.equal(bar(1 / 24, 3), "▏  ");
    assert.equal(bar(0.0001, 3), "▏  "); // non-zero stays visible
    assert.equal(bar(0, 3), "   ");
    assert.equal(bar(1, 3), "███");
    assert.equal(bar(0.5, 4, true), "##  ");
  });

  it("fits narrow widths and colours only when asked", () => {
    for (const width of [10, 20, 30, 40]) {
      assertFits(bars(rows, { width, color: true }), width, `bars ${width}`);
      assertFits(bars(rows, { width, color: false }), width, `bars ${width}`);
    }
    assert.ok(SGR.test(bars(rows, { width: 60, color: true }).join("")));
    assert.ok(!SGR.test(bars(rows, { width: 60, color: false }).join("")));
  });
});

describe("sparkline", () => {
  it("maps values onto eight levels", () => {
    assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8), "▁▂▃▄▅▆▇█");
    assert.equal(sparkline([], 10), "");
    assert.equal(sparkline([0, 0, 0], 10), "▁▁▁");
    assert.equal(sparkline([5], 10), "█"); // scaled from 0
    assert.equal(
      sparkline(
        Array.from({ length: 100 }, (_, i) => i),
        10,
      ).length,
      10,
    );
  });
});

describe("shade and retentionGrid", () => {
  it("shades by rate without colour using ░▒▓█", () => {
    assert.equal(shade(0, { color: false }), " ");
    assert.equal(shade(0.01, { color: false }), "░");
    assert.equal(shade(0.1, { color: false }), "▒");
    assert.equal(shade(0.4, { color: false }), "▓");
    assert.equal(shade(0.9, { color: false }), "█");
    assert.equal(shade(0.4, { color: false, ascii: true }), "+");
    assert.ok(SGR.test(shade(0.4, { color: true })));
    assert.equal(displayWidth(shadeCell(0.4, " 40%", { color: true })), 4);
  });

  const result: RetentionResult = {
    period: "day",
    mode: "on",
    cohort: "first",
    average: [1, 0.42, 0.3, 0.2, 0.15, 0.1, 0.08, 0.05, 0.04, 0.02, 0.01, 0.01],
    cohorts: Array.from({ length: 8 }, (_, i) => ({
      cohort: new Date(Date.UTC(2023, 5, 1 + i)).toISOString(),
      users: i === 3 ? 0 : 100,
      retained: Array.from({ length: 12 }, (_, n) => (i === 3 ? 0 : Math.round(100 / (n + 1)))),
      incomplete_from: i < 2 ? null : 10 - i,
    })),
  };

  it("draws a cohort × period grid with shades and incomplete marks (NO_COLOR)", () => {
    const color = useColor({ NO_COLOR: "1" });
    assert.equal(color, false);
    const lines = retentionGrid(result, { width: 200, color });
    assertFits(lines, 200, "grid 200");
    const text = lines.join("\n");
    assert.ok(!SGR.test(text));
    for (const ch of ["░", "▒", "▓", "█"]) assert.ok(text.includes(ch), `uses ${ch}`);
    assert.match(lines[0]!, /^Cohort\s+Users\s+D0\s+D1/);
    assert.match(lines[1]!, /^Average/);
    const first = lines.find((l) => l.startsWith("06-01"))!;
    assert.match(first, /█ ?100%/);
    assert.ok(!first.includes(INCOMPLETE_MARK), "a complete cohort has no marks");
    const late = lines.find((l) => l.startsWith("06-08"))!; // incomplete from period 3
    const marks = late.match(/\*/g) ?? [];
    assert.equal(marks.length, 1, "only the current period is marked; later ones are blank");
    assert.match(late, /33\.0% .*25\.0%\*\s*$/);
    const empty = lines.find((l) => l.startsWith("06-04"))!;
    assert.ok(!/[░▒▓█]/.test(empty), "a cohort without users is not shaded");
    assert.match(empty, /–/);
  });

  it("from: starts at a later period, keeping the cohort and users columns (a horizontal scroll)", () => {
    const color = false;
    const at0 = retentionGrid(result, { width: 60, color });
    assert.match(at0[0]!, /^Cohort\s+Users\s+D0\s+D1.*\+\d+$/);
    const lines = retentionGrid(result, { width: 60, color, from: 6 });
    assertFits(lines, 60, "grid from 6");
    assert.match(lines[0]!, /^‹\+6\s+Users\s+D6\s+D7\s/);
    assert.ok(!/\bD5\b/.test(lines[0]!));
    const first = lines.find((l) => l.startsWith("06-01"))!;
    // 06-01's D6 cell: 100 / 7 retained.
    assert.match(first, /^06-01\s+100\s+\S?\s*14\.0%/);
    // Past the last period the grid shows the last one.
    assert.match(retentionGrid(result, { width: 60, color, from: 99 })[0]!, /D11$/);
  });

  it("leaves periods after the current one blank, in every face", () => {
    for (const face of FACES) {
      const lines = retentionGrid(result, { width: 200, ...face });
      const header = stripSgr(lines[0]!);
      result.cohorts.forEach((c, i) => {
        if (!(c.users > 0)) return;
        const row = stripSgr(lines[2 + i]!);
        for (let n = 0; n < 12; n++) {
          // The cell under `Dn`: the cell width (7) columns ending at its label.
          const end = header.search(new RegExp(`\\bD${n}\\b`)) + `D${n}`.length + 1;
          const cell = row.slice(end - 7, end);
          const future = c.incomplete_from !== null && n > c.incomplete_from;
          if (future)
            assert.equal(cell.trim(), "", `${face.name} cohort ${i} D${n}: ${JSON.stringify(cell)}`);
          else assert.match(cell, /\d%[* ]$/, `${face.name} cohort ${i} D${n}: ${JSON.stringify(cell)}`);
          assert.equal(cell.endsWith("*"), n === c.incomplete_from, `${face.name} cohort ${i} D${n} mark`);
        }
      });
    }
  });

  it("drops trailing period columns to fit the width", () => {
    for (const width of [80, 60, 40, 24, 16, 10]) {
      const lines = retentionGrid(result, { width, color: false });
      assertFits(lines, width, `grid ${width}`);
      assert.equal(lines.length, 2 + result.cohorts.length);
    }
    const narrow = retentionGrid(result, { width: 40, color: false });
    assert.match(narrow[0]!, /D\d \+\d+$/);
    assert.ok(!narrow[0]!.includes("D11"));
    const coloured = retentionGrid(result, { width: 80, color: true, cellWidth: 6 });
    assertFits(coloured, 80, "coloured grid");
  });

  it("labels week and month cohorts", () => {
    const weekly: RetentionResult = {
      ...result,
      period: "week",
      cohorts: [{ cohort: "2023-05-29T00:00:00.000Z", users: 10, retained: [10, 5], incomplete_from: null }],
      average: [1, 0.5],
    };
    const lines = retentionGrid(weekly, { width: 80, color: false });
    assert.match(lines[0]!, /W0\s+W1/);
    assert.match(lines[2]!, /^W22 05-29\s+10/);
  });
});

describe("useColor", () => {
  const tty = (depth: number) => ({ isTTY: true, getColorDepth: () => depth });
  it("honours NO_COLOR, TERM=dumb and FORCE_COLOR", () => {
    assert.equal(useColor({ NO_COLOR: "1" }), false);
    assert.equal(useColor({ NO_COLOR: "" }), true);
    assert.equal(useColor({ TERM: "dumb" }), false);
    assert.equal(useColor({ FORCE_COLOR: "0" }, tty(8)), false);
    assert.equal(useColor({ FORCE_COLOR: "1" }, { isTTY: false }), true);
    assert.equal(useColor({ NO_COLOR: "x", FORCE_COLOR: "1" }), false);
  });
  it("needs at least 16 colours on the stream", () => {
    assert.equal(useColor({}, tty(1)), false);
    assert.equal(useColor({}, tty(4)), true);
    assert.equal(useColor({}, tty(8)), true);
    assert.equal(useColor({}, { isTTY: true, hasColors: (n = 16) => n <= 8 }), false);
    assert.equal(useColor({}, { isTTY: false }), false);
    assert.equal(useColor({}), true);
  });
});
