/** The query engine: specs → SQL → results. */
export { buildCatalog, buildRange } from "./catalog.js";
export {
  AbortError,
  buildQuery,
  closestNames,
  Executor,
  inlineSql,
  type ResultOf,
  type RunOutput,
  shapeResult,
  validateSpec,
} from "./executor.js";
export { type BuiltQuery, filterSql, filtersSql, isNumeric, keyPointer, Params } from "./filters.js";
export { buildFunnel } from "./funnel.js";
export {
  formatEventRef,
  formatFilter,
  formatMeasure,
  parseDate,
  parseDuration,
  parseEventRef,
  parseFilter,
  parseInterval,
  parseMeasure,
  parsePeriod,
  UsageError,
} from "./parse.js";
export { buildProps } from "./props.js";
export { buildRetention } from "./retention.js";
export type * from "./spec.js";
export { buildTrend } from "./trend.js";
