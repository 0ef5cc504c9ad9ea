/**
 * Tab 6: paths. Pick the anchor (`a`) and the direction (`r`: after / before), depth (`n`), children
 * per node (`t`), collapsing of repeats (`c`), a time limit from the anchor (`w`, `W` clears) and
 * filters (`f`, `F`). The tree is the headless one (`src/render/insights.ts`) with a row cursor:
 * ←/→ collapse and expand a node (← on a leaf goes to its parent), Enter re-anchors on the node's
 * event (a node that is `(end)` or `(other)` names no event), `u` lists the node's users and from a
 * user their events (`DrillPanel`).
 */
import { Box } from "ink";
import type { Dispatch, ReactNode, SetStateAction } from "react";
import { useMemo, useState } from "react";
import { formatEventRef } from "../../queries/parse.js";
import { END, OTHER } from "../../queries/paths.js";
import type { DateRange, PathsResult, PathsSpec } from "../../queries/spec.js";
import { formatDuration, formatNumber, formatPercent } from "../../render/format.js";
import {
  type PathRow,
  pathKey,
  pathLabelWidth,
  pathRows,
  pathRowText,
  pathsAnchorLine,
  pathsHeader,
} from "../../render/insights.js";
import { cleanText, stripSgr } from "../../render/sanitize.js";
import { PRIORITY, useKeys } from "../hooks/input.js";
import { useActions } from "../hooks/useActions.js";
import { queryState, useQuery } from "../hooks/useQuery.js";
import { matches } from "../keymap.js";
import {
  type PathsModel,
  useAppEnv,
  useReportResult,
  useReportSelection,
  useReportSettings,
} from "../state/state.js";
import { AddFilterPrompt, EventPicker, NumberPrompt, WindowEditor } from "../widgets/pickers.js";
import { SettingsLines, settingsLayout, settingTokens, stateRoom } from "../widgets/settings.js";
import { clamp, HintLine, Line, RawLine, scrollTop } from "../widgets/widgets.js";
import { DrillPanel, type DrillTarget } from "./DrillPanel.js";

export function pathsSpec(m: PathsModel, range: DateRange | null): PathsSpec | null {
  if (!range || !m.anchor) return null;
  return {
    kind: "paths",
    anchor: m.anchor,
    direction: m.direction,
    depth: m.depth,
    top: m.top,
    collapse: m.collapse,
    ...(m.withinSeconds === undefined ? {} : { withinSeconds: m.withinSeconds }),
    range,
    filters: m.filters,
  };
}

/** Levels of the tree shown when it opens: nodes deeper than this start folded (→ unfolds one). */
export const OPEN_LEVELS = 2;

/** The nodes whose children are hidden: those folded with ←, and those below the open levels not unfolded. */
export function collapsedKeys(
  m: Pick<PathsModel, "folded" | "unfolded">,
  r: PathsResult | undefined,
): Set<string> {
  const out = new Set(m.folded);
  const open = new Set(m.unfolded ?? []);
  for (const n of r?.nodes ?? []) {
    if (n.path.length < OPEN_LEVELS) continue;
    const key = pathKey(n.path);
    if (!open.has(key)) out.add(key);
  }
  return out;
}

/** The model after a fold (←) on the selected row: collapse it, or go to its parent. */
export function foldAt(m: PathsModel, rows: PathRow[], cursor: number): PathsModel {
  const row = rows[cursor];
  if (!row) return m;
  if (row.hasChildren && !row.collapsed)
    return {
      ...m,
      folded: [...m.folded, row.key],
      unfolded: (m.unfolded ?? []).filter((k) => k !== row.key),
    };
  const parent = pathKey(row.node.path.slice(0, -1));
  const at = rows.findIndex((r) => r.key === parent);
  return at >= 0 ? { ...m, cursor: at } : m;
}

/** The model after an unfold (→) on the selected row. */
export function unfoldAt(m: PathsModel, rows: PathRow[], cursor: number): PathsModel {
  const row = rows[cursor];
  if (!row?.collapsed) return m;
  return {
    ...m,
    folded: m.folded.filter((k) => k !== row.key),
    unfolded: [...(m.unfolded ?? []).filter((k) => k !== row.key), row.key],
  };
}

type Picker = null | "anchor" | "depth" | "top" | "within" | "filter";

export interface PathsScreenProps {
  width: number;
  height: number;
  model: PathsModel;
  setModel: Dispatch<SetStateAction<PathsModel>>;
}

export function PathsScreen({ width, height, model, setModel }: PathsScreenProps) {
  const env = useAppEnv();
  const { range } = env;
  const [picker, setPicker] = useState<Picker>(null);
  const [drill, setDrill] = useState<DrillTarget | null>(null);
  const spec = useMemo(() => pathsSpec(model, range), [model, range]);
  const q = useQuery(spec);
  useReportResult("paths", "Paths", q);
  const update = (patch: Partial<PathsModel>) => setModel((m) => ({ ...m, ...patch }));
  /** A new tree: cursor back to the top, nothing folded. */
  const reset = { cursor: 0, scroll: 0, folded: [], unfolded: [] };

  // A new tree opens with two levels shown (deeper nodes folded until → unfolds them).
  const folded = useMemo(
    () => collapsedKeys({ folded: model.folded, unfolded: model.unfolded }, q.data),
    [model.folded, model.unfolded, q.data],
  );
  const rows = useMemo(
    () => (q.data ? pathRows(q.data, folded, env.ascii) : []),
    [q.data, folded, env.ascii],
  );
  const { state, stateColor } = queryState(q);
  // The settings wrap onto a second line when they do not fit (then `+N more`; `?` shows them all).
  const settings = settingsLayout(
    "Paths · ",
    settingTokens(
      `${model.direction} ${model.anchor ? formatEventRef(model.anchor) : "–"}`,
      `depth ${model.depth}`,
      `top ${model.top}`,
      model.collapse ? "collapse repeats" : "keep repeats",
      model.withinSeconds !== undefined && `within ${formatDuration(model.withinSeconds)}`,
      model.filters,
    ),
    width,
    stateRoom(state, stateColor),
  );
  useReportSettings("paths", settings.cut ? settings.full : "");
  const bodyH = Math.max(1, height - 1 - settings.lines.length);
  const listH = Math.max(1, bodyH - 3); // header, anchor line, selection line
  const cursor = clamp(model.cursor, 0, Math.max(0, rows.length - 1));
  const top = scrollTop(model.scroll, cursor, listH, rows.length);
  const move = (d: number) => {
    const next = clamp(cursor + d, 0, Math.max(0, rows.length - 1));
    update({ cursor: next, scroll: scrollTop(top, next, listH, rows.length) });
  };

  useKeys(
    (input, key) => {
      if (matches("paths.anchor", input, key)) setPicker("anchor");
      else if (matches("paths.direction", input, key))
        update({ direction: model.direction === "after" ? "before" : "after", ...reset });
      else if (matches("paths.depth", input, key)) setPicker("depth");
      else if (matches("paths.top", input, key)) setPicker("top");
      else if (matches("paths.collapse", input, key)) update({ collapse: !model.collapse, ...reset });
      else if (matches("paths.within", input, key)) setPicker("within");
      else if (matches("paths.clearWithin", input, key)) update({ withinSeconds: undefined, ...reset });
      else if (matches("paths.filter", input, key)) setPicker("filter");
      else if (matches("paths.clearFilters", input, key)) update({ filters: [], ...reset });
      else if (matches("paths.up", input, key)) move(-1);
      else if (matches("paths.down", input, key)) move(1);
      else if (matches("paths.pageUp", input, key)) move(-listH);
      else if (matches("paths.pageDown", input, key)) move(listH);
      else if (matches("paths.first", input, key)) move(-rows.length);
      else if (matches("paths.last", input, key)) move(rows.length);
      else if (matches("paths.fold", input, key)) setModel((m) => foldAt(m, rows, cursor));
      else if (matches("paths.unfold", input, key)) setModel((m) => unfoldAt(m, rows, cursor));
      else if (matches("paths.reanchor", input, key)) {
        const name = rows[cursor]?.node.path.at(-1);
        if (!name) env.notify("no node selected: pick an anchor with a");
        else if (name === END || name === OTHER) env.notify(`${name} is not an event: pick another node`);
        else update({ anchor: { event: name, filters: [] }, ...reset });
      } else if (matches("paths.users", input, key)) {
        const row = rows[cursor];
        const shown = q.spec?.kind === "paths" ? q.spec : null;
        if (!row || !shown) env.notify("no node selected: u lists a node's users once the tree is in");
        else
          setDrill({
            of: shown,
            selection: JSON.stringify(row.node.path),
            title: `path ${cleanText(row.node.path.join(" → "))}`,
          });
      } else return false;
      return true;
    },
    { priority: PRIORITY.screen, isActive: picker === null && drill === null },
  );
  const selRow = rows[cursor];
  const selText = selRow
    ? `${cleanText(selRow.node.path.join(" → "))}: ${formatNumber(selRow.node.users)} users, ${formatPercent(selRow.parentShare)} of ${selRow.node.path.length > 1 ? "the step before" : "the anchored"}, ${formatPercent(selRow.node.share)} of all`
    : "";
  // `z`: the selected node's whole path (the tree cuts long names).
  useReportSelection("paths", selText);
  // For the command palette: what these keys would do nothing for now.
  const node = rows[cursor]?.node.path.at(-1);
  useActions(
    "paths",
    [
      model.withinSeconds === undefined && "paths.clearWithin",
      !model.filters.length && "paths.clearFilters",
      !rows.length && "paths.fold",
      !rows.length && "paths.unfold",
      (!node || node === END || node === OTHER) && "paths.reanchor",
      !(rows[cursor] && q.spec?.kind === "paths") && "paths.users",
    ],
    picker === null && drill === null,
  );

  if (drill)
    return (
      <DrillPanel
        width={width}
        height={height}
        target={drill}
        flip={() => "a paths node has no other side"}
        onClose={() => setDrill(null)}
      />
    );

  if (picker === "anchor") {
    return (
      <EventPicker
        title="Anchor event (paths start at each user's first one; before: end at the last)"
        catalog={env.catalog.data}
        range={range}
        width={width}
        height={height}
        withFilter
        onPick={(ref) => {
          update({ anchor: ref, ...reset });
          setPicker(null);
        }}
        onCancel={() => setPicker(null)}
      />
    );
  }
  if (picker === "depth" || picker === "top") {
    return (
      <NumberPrompt
        title={picker === "depth" ? "Steps per path" : "Children per node (the rest fold into (other))"}
        current={picker === "depth" ? model.depth : model.top}
        min={1}
        max={picker === "depth" ? 10 : 50}
        width={width}
        onSubmit={(n) => {
          update({ ...(picker === "depth" ? { depth: n } : { top: n }), ...reset });
          setPicker(null);
        }}
        onCancel={() => setPicker(null)}
      />
    );
  }
  if (picker === "within") {
    return (
      <WindowEditor
        title="Only events within this time of the anchor"
        current={model.withinSeconds ?? 3600}
        width={width}
        height={height}
        onPick={(seconds) => {
          update({ withinSeconds: seconds, ...reset });
          setPicker(null);
        }}
        onCancel={() => setPicker(null)}
      />
    );
  }
  if (picker === "filter") {
    return (
      <AddFilterPrompt
        title="Add a filter (applies to every event of the paths)"
        range={range}
        width={width}
        onAdd={(f) => update({ filters: [...model.filters, f], ...reset })}
        onDone={() => setPicker(null)}
      />
    );
  }

  let body: ReactNode;
  if (!model.anchor) body = <Line text="Pick the anchor event with a." width={width} />;
  else if (!q.data)
    body = <Line text={q.status === "running" ? "running the paths query…" : " "} width={width} dim />;
  else if (!q.data.users)
    body = <Line text={cleanText(`nobody has ${formatEventRef(model.anchor)} in the range`)} width={width} />;
  else {
    const labelW = pathLabelWidth(rows, width);
    const shown = rows.slice(top, top + listH);
    const sel = rows[cursor];
    body = (
      <>
        <Line text={pathsHeader(q.data)} width={width} bold />
        <Line text={pathsAnchorLine(q.data, width)} width={width} />
        {shown.map((r, i) =>
          top + i === cursor ? (
            // The selected row without colour, inverted, so it stands out.
            <Line
              key={r.key}
              text={stripSgr(
                pathRowText(r, labelW, {
                  width,
                  color: false,
                  ascii: env.ascii,
                  sampled: q.data?.sample !== undefined,
                }),
              )}
              width={width}
              inverse
            />
          ) : (
            <RawLine
              key={r.key}
              text={pathRowText(r, labelW, {
                width,
                color: env.color,
                ascii: env.ascii,
                sampled: q.data?.sample !== undefined,
              })}
            />
          ),
        )}
        <Line
          text={sel ? `${selText}${rows.length > listH ? ` · ${cursor + 1}/${rows.length}` : ""}` : " "}
          width={width}
          dim
        />
      </>
    );
  }

  return (
    <Box flexDirection="column" width={width} height={height}>
      <SettingsLines layout={settings} state={state} stateColor={stateColor} width={width} />
      <Box flexDirection="column" height={bodyH} overflow="hidden">
        {body}
      </Box>
      <HintLine
        ids={[
          "paths.anchor",
          "paths.direction",
          "paths.reanchor",
          "paths.users",
          "paths.fold",
          "paths.unfold",
          "paths.depth",
          "paths.top",
          "paths.collapse",
          "paths.within",
          "paths.filter",
        ]}
        width={width}
      />
    </Box>
  );
}
