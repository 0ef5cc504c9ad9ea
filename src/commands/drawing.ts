/**
 * What the human output of the analysis commands draws with: charts and aligned tables, which measure
 * display widths (string-width and its ICU segmenter, ~35 ms to load). analyze.ts imports this only
 * for human output, so `--json` and `--csv` start without it.
 */
export { bars, lineChart, retentionGrid, useColor } from "../render/charts.js";
export { wrapText } from "../render/sanitize.js";
export { textTable } from "../render/table.js";
