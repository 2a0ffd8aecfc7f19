/**
 * The fixed vocabulary of filter keys and what each accepts. Only the SQL chosen here for a key ever
 * reaches the query text; the user's own names (tag keys, assessment names) travel as parameters.
 */

export type Op = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'RLIKE' | 'IN' | 'NOT IN' | 'IS NULL' | 'IS NOT NULL';

export type TraceField = 'status' | 'timestamp_ms' | 'execution_time_ms' | 'name';
export type SpanColumn = 'session_id' | 'user_id' | 'name' | 'span_type' | 'model';
export type SpanMap = 'tags' | 'metadata' | 'attributes';
export type AssessmentKind = 'feedback' | 'expectation';

export type KeySpec =
  | { family: 'trace'; field: TraceField; label: string }
  | { family: 'text'; label: string }
  | { family: 'span'; column: SpanColumn; label: string }
  | { family: 'spanMap'; map: SpanMap; key: string; label: string }
  | { family: 'assessment'; kind: AssessmentKind; name: string; label: string };

/** What the value after an operator must be. */
export type ValueKind = 'string' | 'number' | 'either' | 'status' | 'none';

export const TRACE_STATES = ['OK', 'ERROR', 'IN_PROGRESS'] as const;

export const KEY_HINT =
  'a filter key (trace.status, trace.timestamp_ms, trace.execution_time_ms, trace.name, trace.text, ' +
  'trace.session_id, trace.user_id, tag.<name>, metadata.<key>, span.name, span.type, span.model, ' +
  'span.attributes.<key>, feedback.<name> or expectation.<name>)';

const TRACE_FIELDS: Readonly<Record<string, TraceField>> = {
  status: 'status',
  state: 'status',
  timestamp_ms: 'timestamp_ms',
  timestamp: 'timestamp_ms',
  execution_time_ms: 'execution_time_ms',
  execution_time: 'execution_time_ms',
  name: 'name',
};

const TRACE_LABELS: Readonly<Record<TraceField, string>> = {
  status: 'trace.status',
  timestamp_ms: 'trace.timestamp_ms',
  execution_time_ms: 'trace.execution_time_ms',
  name: 'trace.name',
};

const SPAN_FIELDS: Readonly<Record<string, SpanColumn>> = { name: 'name', type: 'span_type', model: 'model' };

const MAP_PREFIXES: Readonly<Record<string, { map: SpanMap; what: string }>> = {
  tag: { map: 'tags', what: 'a tag name' },
  tags: { map: 'tags', what: 'a tag name' },
  metadata: { map: 'metadata', what: 'a metadata key' },
  request_metadata: { map: 'metadata', what: 'a metadata key' },
};

/** A key that names a family but not the member, e.g. "tag" or "feedback.": say what is missing. */
export interface MissingName {
  missing: string;
}

/**
 * Resolve the dot-separated parts of a key (quotes already removed). Family and field names are
 * case-insensitive; user-chosen names after the family keep their case and their dots, so
 * tag.mlflow.user and tag.`mlflow.user` name the same tag.
 */
export function resolveKey(parts: readonly string[]): KeySpec | MissingName | null {
  const head = (parts[0] ?? '').toLowerCase();
  const second = parts[1]?.toLowerCase();
  const rest = (from: number): string => parts.slice(from).join('.');

  if (parts.length === 1) {
    const field = TRACE_FIELDS[head];
    if (field) return { family: 'trace', field, label: TRACE_LABELS[field] };
    if (head === 'session_id' || head === 'user_id') return { family: 'span', column: head, label: `trace.${head}` };
  }
  if ((head === 'trace' || head === 'attributes') && parts.length === 2 && second !== undefined) {
    const field = TRACE_FIELDS[second];
    if (field) return { family: 'trace', field, label: TRACE_LABELS[field] };
    if (head === 'trace') {
      if (second === 'text') return { family: 'text', label: 'trace.text' };
      if (second === 'session_id' || second === 'user_id') {
        return { family: 'span', column: second, label: `trace.${second}` };
      }
    }
  }
  const mapPrefix = MAP_PREFIXES[head];
  if (mapPrefix) {
    const key = rest(1);
    if (parts.length < 2 || key === '') return { missing: `${mapPrefix.what} after "${parts[0]}."` };
    return { family: 'spanMap', map: mapPrefix.map, key, label: `${mapPrefix.map === 'tags' ? 'tag' : 'metadata'}.${key}` };
  }
  if (head === 'span') {
    if (parts.length === 1) return { missing: 'name, type, model or attributes.<key> after "span."' };
    if (second === 'attributes') {
      const key = rest(2);
      if (parts.length < 3 || key === '') return { missing: 'an attribute key after "span.attributes."' };
      return { family: 'spanMap', map: 'attributes', key, label: `span.attributes.${key}` };
    }
    const column = second !== undefined && parts.length === 2 ? SPAN_FIELDS[second] : undefined;
    if (column) return { family: 'span', column, label: `span.${second}` };
    return null;
  }
  if (head === 'feedback' || head === 'expectation') {
    const name = rest(1);
    if (parts.length < 2 || name === '') return { missing: `an assessment name after "${parts[0]}."` };
    return { family: 'assessment', kind: head, name, label: `${head}.${name}` };
  }
  return null;
}

const STRING_OPS: readonly Op[] = ['=', '!=', 'LIKE', 'ILIKE', 'RLIKE', 'IN', 'NOT IN'];
const NUMERIC_OPS: readonly Op[] = ['=', '!=', '<', '<=', '>', '>=', 'IN', 'NOT IN'];
const NULL_OPS: readonly Op[] = ['IS NULL', 'IS NOT NULL'];

/** Operators a key accepts, in the order they are listed to the user. */
export function allowedOps(key: KeySpec): readonly Op[] {
  switch (key.family) {
    case 'trace':
      if (key.field === 'status') return ['=', '!=', 'IN', 'NOT IN'];
      if (key.field === 'name') return STRING_OPS;
      return NUMERIC_OPS;
    case 'text':
      return ['=', '!=', 'LIKE', 'ILIKE', 'RLIKE'];
    case 'span':
    case 'spanMap':
      return [...STRING_OPS, ...NULL_OPS];
    case 'assessment':
      return ['=', '!=', '<', '<=', '>', '>=', 'LIKE', 'ILIKE', 'RLIKE', 'IN', 'NOT IN', ...NULL_OPS];
  }
}

/** The value an operator on a key needs (for IN / NOT IN: the type of every list item). */
export function valueKind(key: KeySpec, op: Op): ValueKind {
  if (op === 'IS NULL' || op === 'IS NOT NULL') return 'none';
  switch (key.family) {
    case 'trace':
      if (key.field === 'status') return 'status';
      return key.field === 'name' ? 'string' : 'number';
    case 'text':
    case 'span':
    case 'spanMap':
      return 'string';
    case 'assessment':
      // Assessment values are stored as text; numbers compare numerically, strings textually.
      if (op === '<' || op === '<=' || op === '>' || op === '>=') return 'number';
      if (op === 'LIKE' || op === 'ILIKE' || op === 'RLIKE') return 'string';
      return 'either';
  }
}
