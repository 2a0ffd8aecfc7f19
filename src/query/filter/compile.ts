import type { AssessmentKind, KeySpec, Op, SpanColumn, SpanMap, TraceField } from './keys.js';
import type { Condition, Operand, OrderTerm } from './parser.js';

export type ParamValue = string | number | string[] | number[] | Array<number | string>;

/**
 * A Float64 parameter as the client should send it: `1e16` is an integer-valued double past 2^53, which
 * the client refuses to serialize as a number, so such values go as their decimal text (exact, since the
 * double already holds exactly that integer).
 */
const float = (v: number): number | string => (Number.isInteger(v) && !Number.isSafeInteger(v) ? BigInt(v).toString() : v);

/** Hands out p0, p1, … so user input only ever appears in the parameter map, never in the SQL text. */
class Params {
  readonly values: Record<string, ParamValue> = {};
  private next = 0;

  add(type: string, value: ParamValue): string {
    const name = `p${this.next++}`;
    this.values[name] = value;
    return `{${name}:${type}}`;
  }

  /** A placeholder for a single operand, or for the list of IN / NOT IN. */
  operand(operand: Operand, numericType: 'Int64' | 'Float64'): string {
    switch (operand.type) {
      case 'string':
        return this.add('String', operand.value);
      case 'number':
        return this.add(operand.integer ? numericType : 'Float64', operand.integer ? operand.value : float(operand.value));
      case 'strings':
        return this.add('Array(String)', operand.values);
      case 'numbers':
        return operand.integer ? this.add(`Array(${numericType})`, operand.values) : this.add('Array(Float64)', operand.values.map(float));
      case 'none':
        throw new Error('compile: operand expected');
    }
  }
}

interface Scope {
  params: Params;
  project: string;
  spanTimeScope: string;
  /** Scope over `span_index` for the columns it carries; null to read `spans` for everything. */
  indexScope: string | null;
  /** The same window over the `events` table (log records: GenAI content events). */
  eventTimeScope: string;
  /** The traces of the window, over `assessments`; '' for every assessment of the project. */
  assessmentScope: string;
}

const TRACE_COLUMNS: Readonly<Record<TraceField, string>> = {
  status: 'state',
  timestamp_ms: 'intDiv(request_time_ns, 1000000)',
  execution_time_ms: 'intDiv(execution_duration_ns, 1000000)',
  name: 'name',
};

const ORDER_COLUMNS: Readonly<Record<TraceField, string>> = {
  status: 'state',
  timestamp_ms: 'request_time',
  execution_time_ms: 'execution_duration_ns',
  name: 'name',
};

/** `expr <op> placeholder` for every operator that takes a value. */
function compare(expr: string, op: Op, placeholder: string): string {
  switch (op) {
    case 'RLIKE':
      return `match(${expr}, ${placeholder})`;
    case 'IS NULL':
    case 'IS NOT NULL':
      throw new Error(`compile: ${op} takes no value`);
    default:
      return `${expr} ${op} ${placeholder}`;
  }
}

/** `span_index` holds these (narrow, sorted by time); attributes and payloads are only in `spans`. */
function spanSubquery(scope: Scope, condition: string, indexed = false): string {
  if (indexed && scope.indexScope !== null) {
    return `SELECT trace_id FROM span_index WHERE project = ${scope.project} AND (${scope.indexScope}) AND (${condition})`;
  }
  const time = scope.spanTimeScope === '' ? '' : ` AND (${scope.spanTimeScope})`;
  return `SELECT trace_id FROM spans WHERE project = ${scope.project}${time} AND (${condition})`;
}

/**
 * Span keys hold one value per span, so a trace has a set of them. Positive operators ask whether some
 * span matches; != and NOT IN are the exact complement of = and IN (no span has the value), so a
 * filter and its negation split the traces in two. IS NULL means no span carries a (non-empty) value.
 */
/**
 * Traces whose trace-level key (`trace_meta`: tags, metadata, session and user set beside the spans, as
 * MLflow's client does) currently matches `condition` on its `value`.
 */
function metaSubquery(scope: Scope, field: string, key: string, condition: string): string {
  return (
    `SELECT trace_id FROM (SELECT trace_id, argMax(value, version) AS value, argMax(deleted, version) AS gone FROM trace_meta ` +
    `WHERE project = ${scope.project} AND field = '${field}' AND key = ${key} GROUP BY trace_id) WHERE gone = 0 AND (${condition})`
  );
}

/** Whether a trace is (or, negated, is not) among a span key's matches or the trace-level keys of the same name. */
function inSpansOrMeta(
  scope: Scope,
  negated: boolean,
  condition: string,
  indexed: boolean,
  meta: { field: string; key: string; condition: string } | null,
): string {
  const sub = spanSubquery(scope, condition, indexed);
  if (!meta) return `trace_id ${negated ? 'NOT IN' : 'IN'} (${sub})`;
  const any = `(trace_id IN (${sub}) OR trace_id IN (${metaSubquery(scope, meta.field, meta.key, meta.condition)}))`;
  return negated ? `NOT ${any}` : any;
}

function spanCondition(
  scope: Scope,
  op: Op,
  operand: Operand,
  present: string,
  value: string,
  indexed: boolean,
  meta: { field: string; key: string } | null = null,
): string {
  const withMeta = (condition: string) => (meta ? { ...meta, condition } : null);
  if (op === 'IS NULL') return inSpansOrMeta(scope, true, present, indexed, withMeta("value != ''"));
  if (op === 'IS NOT NULL') return inSpansOrMeta(scope, false, present, indexed, withMeta("value != ''"));
  const negated = op === '!=' || op === 'NOT IN';
  const positive: Op = op === '!=' ? '=' : op === 'NOT IN' ? 'IN' : op;
  const ph = scope.params.operand(operand, 'Int64');
  const match = `${present} AND ${compare(value, positive, ph)}`;
  return inSpansOrMeta(scope, negated, match, indexed, withMeta(compare('value', positive, ph)));
}

function spanColumnCondition(scope: Scope, column: SpanColumn, op: Op, operand: Operand): string {
  // The span columns are non-nullable Strings where '' means "not reported".
  const meta = column === 'session_id' || column === 'user_id' ? { field: column, key: "''" } : null;
  return spanCondition(scope, op, operand, `${column} != ''`, column, true, meta);
}

function spanMapCondition(scope: Scope, map: SpanMap, key: string, op: Op, operand: Operand): string {
  const k = scope.params.add('String', key);
  const meta = map === 'attributes' ? null : { field: map === 'tags' ? 'tag' : 'metadata', key: k };
  // map[k] is '' for a missing key: requiring the key keeps "tag.x = ''" from matching every trace.
  return spanCondition(scope, op, operand, `mapContains(${map}, ${k})`, `${map}[${k}]`, map !== 'attributes', meta);
}

/**
 * trace.text: "=" is a case-sensitive substring test (the user is searching text, not comparing whole
 * JSON payloads, and no character is a wildcard); LIKE / ILIKE / RLIKE apply the pattern to each text
 * as MLflow does (trace.text LIKE '%refund%'). "!=" is the complement of "=".
 */
function textCondition(scope: Scope, op: Op, operand: Operand): string {
  const ph = scope.params.operand(operand, 'Int64');
  const substring = op === '=' || op === '!=';
  const test = (column: string): string => (substring ? `position(${column}, ${ph}) > 0` : compare(column, op, ph));
  // Content sent as log events (the OTel instrumentations' default) is only in `events`: its bodies and
  // attribute values (gen_ai.input.messages, …) are texts of the trace as much as span inputs are.
  const eventTime = scope.eventTimeScope === '' ? '' : ` AND (${scope.eventTimeScope})`;
  const eventText = `SELECT trace_id FROM events WHERE project = ${scope.project}${eventTime} AND (${test('body')} OR ${test("arrayStringConcat(mapValues(attributes), ' ')")})`;
  const anyText =
    `(${test('request_preview')} OR ${test('response_preview')} OR ` +
    `trace_id IN (${spanSubquery(scope, `${test('inputs')} OR ${test('outputs')}`)}) OR trace_id IN (${eventText}))`;
  return op === '!=' ? `NOT ${anyText}` : anyText;
}

/**
 * The latest valid assessment of one name and kind per trace. Rows are versions of an assessment, so
 * the newest version is picked first and only then checked for name, validity and deletion: an older
 * version must not resurrect an assessment that was since renamed, invalidated or deleted.
 */
function latestAssessments(scope: Scope, kind: AssessmentKind, name: string): string {
  const n = scope.params.add('String', name);
  return (
    `SELECT trace_id, argMax(value_text, (created_time_ns, assessment_id)) AS latest_value FROM (` +
    `SELECT trace_id, assessment_id, name, kind, value_text, created_time_ns, valid, deleted FROM assessments ` +
    `WHERE project = ${scope.project}${scope.assessmentScope === '' ? '' : ` AND (${scope.assessmentScope})`} ` +
    `ORDER BY trace_id, assessment_id, version DESC LIMIT 1 BY trace_id, assessment_id) ` +
    `WHERE name = ${n} AND kind = '${kind}' AND valid = 1 AND deleted = 0 GROUP BY trace_id`
  );
}

function assessmentCondition(scope: Scope, kind: AssessmentKind, name: string, op: Op, operand: Operand): string {
  const latest = latestAssessments(scope, kind, name);
  if (op === 'IS NULL') return `trace_id NOT IN (SELECT trace_id FROM (${latest}))`;
  if (op === 'IS NOT NULL') return `trace_id IN (SELECT trace_id FROM (${latest}))`;
  // Values are stored as text; a numeric operand compares numerically, so '0.90' = 0.9 and a
  // non-numeric value matches no numeric comparison (NULL).
  const numeric = operand.type === 'number' || operand.type === 'numbers';
  const value = numeric ? 'toFloat64OrNull(latest_value)' : 'latest_value';
  const ph = scope.params.operand(operand, 'Float64');
  return `trace_id IN (SELECT trace_id FROM (${latest}) WHERE ${compare(value, op, ph)})`;
}

function traceCondition(scope: Scope, field: TraceField, op: Op, operand: Operand): string {
  return compare(TRACE_COLUMNS[field], op, scope.params.operand(operand, 'Int64'));
}

function compileCondition(scope: Scope, key: KeySpec, op: Op, operand: Operand): string {
  switch (key.family) {
    case 'trace':
      return traceCondition(scope, key.field, op, operand);
    case 'text':
      return textCondition(scope, op, operand);
    case 'span':
      return spanColumnCondition(scope, key.column, op, operand);
    case 'spanMap':
      return spanMapCondition(scope, key.map, key.key, op, operand);
    case 'assessment':
      return assessmentCondition(scope, key.kind, key.name, op, operand);
  }
}

export function compileConditions(
  conditions: readonly Condition[],
  projectParam: string,
  spanTimeScope: string,
  indexScope: string | null = null,
  eventTimeScope = '',
  assessmentScope = '',
): { conditions: string[]; params: Record<string, ParamValue> } {
  const scope: Scope = { params: new Params(), project: `{${projectParam}:String}`, spanTimeScope, indexScope, eventTimeScope, assessmentScope };
  const sql = conditions.map((c) => compileCondition(scope, c.key, c.op, c.operand));
  return { conditions: sql, params: scope.params.values };
}

export function compileOrderTerms(terms: readonly OrderTerm[]): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const term of terms) {
    const column = ORDER_COLUMNS[term.field];
    // A column sorted twice sorts by its first direction only; repeating it would be noise.
    if (seen.has(column)) continue;
    seen.add(column);
    parts.push(term.descending ? `${column} DESC` : column);
  }
  // trace_id breaks ties so pages of equal timestamps come back in a stable order.
  parts.push('trace_id');
  return parts.join(', ');
}
