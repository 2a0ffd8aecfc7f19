/**
 * The trace search filter language (MLflow's search_traces grammar), compiled to parameterized
 * ClickHouse SQL. Nothing the user types reaches the SQL text: values and user-chosen names become
 * {pN:Type} placeholders; only SQL picked from the fixed key vocabulary in keys.ts is emitted.
 */
import { compileConditions, compileOrderTerms, type ParamValue } from './compile.js';
import { parseFilter, parseOrderBy, type OrderTerm } from './parser.js';

export { FilterSyntaxError } from './errors.js';
export type { ParamValue } from './compile.js';

export interface FilterContext {
  /** Name of the ClickHouse query parameter that holds the project, e.g. 'project'. */
  projectParam: string;
  /**
   * SQL condition (already parameterized, trusted) restricting span subqueries to the search's time
   * window, e.g. "start_time >= {from:DateTime64(9)}"; '' for none.
   */
  spanTimeScope: string;
  /**
   * SQL condition restricting the narrow, time-sorted `span_index` table to the spans of the window's
   * traces; when given, conditions on span name, type, model, session, user, tags and metadata read that
   * table instead of `spans` (attributes and text still read `spans`). Omit it for single-trace lookups.
   */
  spanIndexScope?: string;
  /**
   * SQL condition restricting `events` (column `time`) to the window, for trace.text over log-event
   * content; '' (the default) for none.
   */
  eventTimeScope?: string;
  /**
   * SQL condition restricting `assessments` to the traces a search can return (the window's), so a
   * feedback or expectation condition reads those traces' assessments instead of the project's whole
   * history; '' (the default) for none.
   */
  assessmentScope?: string;
}

export interface CompiledFilter {
  /** SQL conditions to AND into the WHERE over the deduplicated traces rows; [] for an empty filter. */
  conditions: string[];
  /** Query parameters the conditions reference, named p0, p1, … (values typed as the placeholders say). */
  params: Record<string, ParamValue>;
}

export const DEFAULT_ORDER_BY = 'request_time DESC, trace_id';

/**
 * Compile a search_traces filter, e.g.
 * `trace.status = 'ERROR' AND span.type = 'LLM' AND feedback.correct = 'false'`.
 *
 * The conditions run in a WHERE over one deduplicated `traces` row per trace (columns trace_id,
 * request_time_ns, execution_duration_ns, state, name, request_preview, response_preview, …).
 * Throws FilterSyntaxError (0-based `position`, `expected`) for anything that does not parse or type-check.
 *
 * Semantics:
 * - Trace keys (status, timestamp_ms, execution_time_ms, name) compare that trace's column. Status
 *   values are OK, ERROR or IN_PROGRESS in any case. Numeric keys need number values.
 * - Span keys (session_id, user_id, span.name/type/model, tag.X, metadata.X, span.attributes.X) look at
 *   every span of the trace that starts inside `spanTimeScope`:
 *   `=`, LIKE, ILIKE, RLIKE, IN match when SOME span matches; `!=` and NOT IN match when NO span has
 *   the value, i.e. they are the exact complement of `=` and IN (`span.type != 'LLM'` = traces without
 *   an LLM span; "some span is not an LLM" would match nearly every trace). IS NULL: no span carries the
 *   key (maps) or a non-empty value (columns); IS NOT NULL: some span does. For map keys, comparisons
 *   require the key to be present, so `tag.x = ''` means "tagged x with an empty value"; for the
 *   columns '' means "not reported" and never matches (use IS NULL). Values are case-sensitive.
 * - trace.text: `=` is a case-sensitive substring search, LIKE/ILIKE/RLIKE apply the pattern to each
 *   text; the texts are the request/response previews, every span's inputs and outputs, and the bodies and
 *   attribute values of the trace's log records (content sent as GenAI events). `!=` is the
 *   complement of `=`.
 * - feedback.X / expectation.X: the trace's latest (by creation time) valid, undeleted assessment of
 *   that name and kind, at its newest version. Strings compare its value text (booleans are 'true' /
 *   'false'); numbers and <, <=, >, >= compare it as a number. Like a nullable column, a trace without
 *   such an assessment matches no comparison, `!=` included; only IS NULL matches it.
 * - LIKE / ILIKE are ClickHouse's (`%`, `_`, `\` escapes; a pattern may not end in an unpaired `\`).
 *   RLIKE is an RE2 regex (`match`); an invalid one fails at query time (ClickHouse error 427).
 * - Strings accept backslash escapes (\n \t \r \0 \\ \' \" \`) and doubled quotes; any other escape
 *   keeps its backslash, so '100\%' is a LIKE pattern for a literal percent sign.
 */
export function compileFilter(filter: string, ctx: FilterContext): CompiledFilter {
  // The project placeholder is spliced into SQL and must not collide with the generated pN names.
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(ctx.projectParam) || /^p\d+$/.test(ctx.projectParam)) {
    throw new TypeError(`compileFilter: invalid projectParam ${JSON.stringify(ctx.projectParam)}`);
  }
  const spanTimeScope = ctx.spanTimeScope.trim();
  return compileConditions(
    parseFilter(filter),
    ctx.projectParam,
    spanTimeScope,
    ctx.spanIndexScope?.trim() || null,
    ctx.eventTimeScope?.trim() ?? '',
    ctx.assessmentScope?.trim() ?? '',
  );
}

/**
 * Compile MLflow-style order_by clauses (e.g. ['timestamp_ms DESC', 'trace.execution_time_ms']) to an
 * ORDER BY list over the deduplicated traces rows. Keys: timestamp_ms, execution_time_ms, status, name
 * (with the same aliases as filters), each optionally ASC (default) or DESC; a string may hold several
 * comma-separated clauses. trace_id is always appended as the tie-breaker. Throws FilterSyntaxError.
 */
export function compileOrderBy(orderBy: string[] | string | undefined): string {
  const clauses = orderBy === undefined ? [] : typeof orderBy === 'string' ? [orderBy] : orderBy;
  const terms: OrderTerm[] = [];
  clauses.forEach((clause, i) => {
    terms.push(...parseOrderBy(clause, typeof orderBy === 'string' ? 'order_by' : `order_by[${i}]`));
  });
  return terms.length === 0 ? DEFAULT_ORDER_BY : compileOrderTerms(terms);
}
