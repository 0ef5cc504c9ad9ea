/**
 * The query engine: specs → SQL → results.
 *
 *   const ex = new Executor(cache);
 *   await validateSpec(cache, spec);             // one-line UsageErrors
 *   const { result, sql, params, ms } = await ex.run(spec, { signal });
 *
 * Builders are pure (`spec (+ QueryContext) → {sql, params}`); `Executor.run` adds the context, runs
 * the SQL on its own connection (cancellable) and shapes the rows into the `--json` result types.
 */
export { buildCatalog, buildRange, shapeRange } from "./catalog.js";
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
export {
  type BuiltQuery,
  filterSql,
  filtersSql,
  isNumeric,
  keyPointer,
  Params,
  type QueryContext,
} from "./filters.js";
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
export { isValidZone } from "./time.js";
export { buildTrend } from "./trend.js";
