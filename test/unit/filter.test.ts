import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { compileFilter, compileOrderBy, FilterSyntaxError, type FilterContext } from '../../src/query/filter/index.js';
import { MIGRATIONS } from '../../src/exporters/clickhouse/schema.js';
import { placeholderTraceRow, TRACE_ROW_VERSION, type TraceRow } from '../../src/exporters/clickhouse/tables.js';

const CTX: FilterContext = { projectParam: 'project', spanTimeScope: '' };

function compile(filter: string, ctx: FilterContext = CTX) {
  return compileFilter(filter, ctx);
}

function syntaxError(run: () => unknown): FilterSyntaxError {
  try {
    run();
  } catch (err) {
    if (err instanceof FilterSyntaxError) return err;
    throw err;
  }
  throw new Error('expected a FilterSyntaxError');
}

/** Single-quoted filter literal for any string. */
function sq(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}
function dq(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
function bq(s: string): string {
  return `\`${s.replace(/\\/g, '\\\\').replace(/`/g, '``')}\``;
}

describe('compileFilter: parsing and SQL', () => {
  it('compiles an empty or blank filter to no conditions', () => {
    expect(compile('')).toEqual({ conditions: [], params: {} });
    expect(compile('  \n\t ')).toEqual({ conditions: [], params: {} });
  });

  it('compiles trace columns with numbered parameters', () => {
    const out = compile("trace.status = 'error' AND trace.timestamp_ms >= 1700000000000 AND trace.execution_time_ms < 1.5 AND trace.name LIKE 'chat%'");
    expect(out.conditions).toEqual([
      'state = {p0:String}',
      'intDiv(request_time_ns, 1000000) >= {p1:Int64}',
      'intDiv(execution_duration_ns, 1000000) < {p2:Float64}',
      'name LIKE {p3:String}',
    ]);
    expect(out.params).toEqual({ p0: 'ERROR', p1: 1700000000000, p2: 1.5, p3: 'chat%' });
  });

  it.each([
    ["trace.name = 'a'", 'name = {p0:String}'],
    ["trace.name != 'a'", 'name != {p0:String}'],
    ["trace.name <> 'a'", 'name != {p0:String}'],
    ["trace.name ILIKE 'a'", 'name ILIKE {p0:String}'],
    ["trace.name RLIKE 'a'", 'match(name, {p0:String})'],
    ["trace.name IN ('a', 'b')", 'name IN {p0:Array(String)}'],
    ["trace.name NOT IN ('a')", 'name NOT IN {p0:Array(String)}'],
    ["trace.status != 'ok'", 'state != {p0:String}'],
    ["trace.status IN ('ok', 'Error')", 'state IN {p0:Array(String)}'],
    ["trace.status NOT IN ('in_progress')", 'state NOT IN {p0:Array(String)}'],
    ['timestamp_ms = 5', 'intDiv(request_time_ns, 1000000) = {p0:Int64}'],
    ['timestamp_ms != -5', 'intDiv(request_time_ns, 1000000) != {p0:Int64}'],
    ['timestamp_ms <= 5', 'intDiv(request_time_ns, 1000000) <= {p0:Int64}'],
    ['timestamp_ms > 5', 'intDiv(request_time_ns, 1000000) > {p0:Int64}'],
    ['timestamp_ms IN (1, 2)', 'intDiv(request_time_ns, 1000000) IN {p0:Array(Int64)}'],
    ['execution_time_ms NOT IN (1, 2.5)', 'intDiv(execution_duration_ns, 1000000) NOT IN {p0:Array(Float64)}'],
  ])('%s', (filter, sql) => {
    expect(compile(filter).conditions).toEqual([sql]);
  });

  it('normalizes and validates status values', () => {
    expect(compile("status IN ('ok', 'Error', 'in_progress')").params).toEqual({ p0: ['OK', 'ERROR', 'IN_PROGRESS'] });
  });

  it.each([
    ['trace.status', ['status', 'attributes.status', 'trace.state', 'TRACE.STATUS', '`trace`.status'], "= 'OK'"],
    ['trace.timestamp_ms', ['timestamp_ms', 'timestamp', 'attributes.timestamp_ms', 'trace.timestamp'], '> 1'],
    ['trace.execution_time_ms', ['execution_time_ms', 'attributes.execution_time_ms', 'execution_time'], '> 1'],
    ['trace.name', ['name', 'attributes.name', 'trace.`name`', 'trace."name"'], "= 'x'"],
    ['trace.session_id', ['session_id'], "= 'x'"],
    ['trace.user_id', ['user_id'], "= 'x'"],
    ['tag.k', ['tags.k', 'TAG.k', 'tag.`k`', 'tag."k"', "tag.'k'"], "= 'x'"],
    ['metadata.k', ['request_metadata.k', 'metadata.`k`'], "= 'x'"],
    ['span.attributes.a.b', ['span.attributes.`a.b`', 'span.attributes."a.b"', 'SPAN.Attributes.a.b'], "= 'x'"],
  ])('%s has aliases', (canonical, aliases, rest) => {
    const expected = compile(`${canonical} ${rest}`);
    for (const alias of aliases) expect(compile(`${alias} ${rest}`), alias).toEqual(expected);
  });

  it('keeps user-chosen names verbatim: case, dots, digits, dashes', () => {
    expect(compile("tag.Env = 'x'").params.p0).toBe('Env');
    expect(compile("tag.mlflow.traceName = 'x'").params.p0).toBe('mlflow.traceName');
    expect(compile("tag.`my key.with dots` = 'x'").params.p0).toBe('my key.with dots');
    expect(compile("tag.2fa = 'on'").params.p0).toBe('2fa');
    expect(compile("span.attributes.retry.0 = 'x'").params.p0).toBe('retry.0');
    expect(compile("tag.my-key = 'x'").params.p0).toBe('my-key');
    expect(compile("feedback.`is correct?` = 'true'").params.p0).toBe('is correct?');
  });

  it('decodes string escapes and doubled quotes', () => {
    const value = (literal: string): unknown => compile(`tag.k = ${literal}`).params.p1;
    expect(value("'it''s'")).toBe("it's");
    expect(value("'it\\'s'")).toBe("it's");
    expect(value('"say ""hi"""')).toBe('say "hi"');
    expect(value('"say \\"hi\\""')).toBe('say "hi"');
    expect(value("'a\\nb\\tc\\\\d'")).toBe('a\nb\tc\\d');
    expect(value("'100\\%'")).toBe('100\\%'); // LIKE escape survives
    expect(value("'\\d+'")).toBe('\\d+'); // regex escape survives
    expect(value("''")).toBe('');
    expect(value("'ünï \u{1F600}'")).toBe('ünï \u{1F600}');
  });

  it('accepts keywords in any case and tokens without spaces', () => {
    const a = compile("trace.status = 'OK' and tag.x like 'a' AnD span.type in ('LLM') aND feedback.x is not null AND tag.y not in ('b')");
    const b = compile("trace.status = 'OK' AND tag.x LIKE 'a' AND span.type IN ('LLM') AND feedback.x IS NOT NULL AND tag.y NOT IN ('b')");
    expect(a).toEqual(b);
    expect(compile("status='OK'AND name!='x'").conditions).toEqual(['state = {p0:String}', 'name != {p1:String}']);
    expect(compile('execution_time_ms>-5').params).toEqual({ p0: -5 });
  });

  it('compiles span columns as "some span" / "no span" subqueries', () => {
    const ctx: FilterContext = { projectParam: 'proj', spanTimeScope: 'start_time >= {from:DateTime64(9)}' };
    const sub = (cond: string) =>
      `SELECT trace_id FROM spans WHERE project = {proj:String} AND (start_time >= {from:DateTime64(9)}) AND (${cond})`;
    expect(compile("span.type = 'LLM'", ctx).conditions).toEqual([`trace_id IN (${sub("span_type != '' AND span_type = {p0:String}")})`]);
    expect(compile("span.type != 'LLM'", ctx).conditions).toEqual([`trace_id NOT IN (${sub("span_type != '' AND span_type = {p0:String}")})`]);
    expect(compile("span.name NOT IN ('a')", ctx).conditions).toEqual([`trace_id NOT IN (${sub("name != '' AND name IN {p0:Array(String)}")})`]);
    expect(compile("span.model RLIKE 'gpt'", ctx).conditions).toEqual([`trace_id IN (${sub("model != '' AND match(model, {p0:String})")})`]);
    expect(compile('session_id IS NULL', ctx).conditions).toEqual([`trace_id NOT IN (${sub("session_id != ''")})`]);
    expect(compile('trace.user_id IS NOT NULL', ctx).conditions).toEqual([`trace_id IN (${sub("user_id != ''")})`]);
    // No time scope: no empty "AND ()".
    expect(compile("session_id = 's'").conditions).toEqual([
      "trace_id IN (SELECT trace_id FROM spans WHERE project = {project:String} AND (session_id != '' AND session_id = {p0:String}))",
    ]);
  });

  it('compiles map keys with the key as a parameter and mapContains for presence', () => {
    const sub = (cond: string) => `SELECT trace_id FROM spans WHERE project = {project:String} AND (${cond})`;
    expect(compile("tag.env = 'prod'")).toEqual({
      conditions: [`trace_id IN (${sub('mapContains(tags, {p0:String}) AND tags[{p0:String}] = {p1:String}')})`],
      params: { p0: 'env', p1: 'prod' },
    });
    expect(compile("metadata.k ILIKE 'x%'").conditions).toEqual([
      `trace_id IN (${sub('mapContains(metadata, {p0:String}) AND metadata[{p0:String}] ILIKE {p1:String}')})`,
    ]);
    expect(compile("span.attributes.k != 'v'").conditions).toEqual([
      `trace_id NOT IN (${sub('mapContains(attributes, {p0:String}) AND attributes[{p0:String}] = {p1:String}')})`,
    ]);
    expect(compile('tag.k IS NULL').conditions).toEqual([`trace_id NOT IN (${sub('mapContains(tags, {p0:String})')})`]);
    expect(compile('tag.k IS NOT NULL').conditions).toEqual([`trace_id IN (${sub('mapContains(tags, {p0:String})')})`]);
  });

  it('compiles trace.text over previews and span payloads', () => {
    const like = compile("trace.text LIKE '%refund%'");
    expect(like.params).toEqual({ p0: '%refund%' });
    expect(like.conditions).toEqual([
      '(request_preview LIKE {p0:String} OR response_preview LIKE {p0:String} OR trace_id IN (SELECT trace_id FROM spans WHERE project = {project:String} AND (inputs LIKE {p0:String} OR outputs LIKE {p0:String})))',
    ]);
    expect(compile("trace.text = 'a'").conditions[0]).toContain('position(request_preview, {p0:String}) > 0');
    expect(compile("trace.text != 'a'").conditions[0]).toMatch(/^NOT \(position\(request_preview/);
    expect(compile("trace.text RLIKE 'a'").conditions[0]).toContain('match(inputs, {p0:String})');
  });

  it('compiles assessments to the latest valid assessment of that name and kind', () => {
    const out = compile("feedback.correct = 'true'");
    expect(out.params).toEqual({ p0: 'correct', p1: 'true' });
    expect(out.conditions[0]).toContain("WHERE name = {p0:String} AND kind = 'feedback' AND valid = 1 AND deleted = 0");
    expect(out.conditions[0]).toContain('LIMIT 1 BY trace_id, assessment_id');
    expect(out.conditions[0]).toMatch(/WHERE latest_value = \{p1:String\}\)$/);
    expect(compile("expectation.answer = 'x'").conditions[0]).toContain("kind = 'expectation'");
    expect(compile('feedback.score > 0.5').conditions[0]).toMatch(/WHERE toFloat64OrNull\(latest_value\) > \{p1:Float64\}\)$/);
    expect(compile('feedback.score = 3').conditions[0]).toMatch(/toFloat64OrNull\(latest_value\) = \{p1:Float64\}\)$/);
    expect(compile('feedback.score IN (1, 2)').conditions[0]).toMatch(/toFloat64OrNull\(latest_value\) IN \{p1:Array\(Float64\)\}\)$/);
    expect(compile("feedback.label NOT IN ('a')").conditions[0]).toMatch(/latest_value NOT IN \{p1:Array\(String\)\}\)$/);
    expect(compile("feedback.label RLIKE '^a'").conditions[0]).toMatch(/match\(latest_value, \{p1:String\}\)\)$/);
    expect(compile('feedback.label IS NULL').conditions[0]).toMatch(/^trace_id NOT IN \(SELECT trace_id FROM \(SELECT/);
    expect(compile('feedback.label IS NOT NULL').conditions[0]).toMatch(/^trace_id IN \(SELECT trace_id FROM \(SELECT/);
  });

  it('rejects a project parameter name that could clash or inject', () => {
    expect(() => compileFilter('', { projectParam: 'p0', spanTimeScope: '' })).toThrow(TypeError);
    expect(() => compileFilter('', { projectParam: 'x:String} OR 1=1 --', spanTimeScope: '' })).toThrow(TypeError);
  });
});

describe('compileFilter: errors', () => {
  it('formats the message with position, expectation and the offending token', () => {
    const err = syntaxError(() => compile('feedback.x = AND'));
    expect(err.message).toBe('filter: at position 13: expected a value (quoted string or number), got "AND"');
    expect(err.position).toBe(13);
    expect(err.expected).toBe('a value (quoted string or number)');
    expect(err.found).toBe('"AND"');
    expect(err).toBeInstanceOf(Error);
  });

  it.each<[string, number, string]>([
    ['trace.status = AND', 15, 'a quoted status (OK, ERROR, IN_PROGRESS)'],
    ["tag.x = 'abc", 8, "a closing ' for the string that starts here"],
    ['tag.x = "abc', 8, 'a closing " for the string that starts here'],
    ["tag.x = 'ab\\", 8, "a closing ' for the string that starts here"],
    ["tag.`abc = 'x'", 4, 'a closing ` for the name that starts here'],
    ["foo = 'x'", 0, 'a filter key'],
    ["trace.foo = 'x'", 0, 'a filter key'],
    ["span.kind = 'x'", 0, 'a filter key'],
    ["span.type.x = 'x'", 0, 'a filter key'],
    ["attributes.text = 'x'", 0, 'a filter key'],
    ["trace.status < 'OK'", 13, 'an operator allowed for trace.status (=, !=, IN, NOT IN)'],
    ["trace.status LIKE 'O%'", 13, 'an operator allowed for trace.status'],
    ["trace.status = 'DONE'", 15, 'one of OK, ERROR, IN_PROGRESS'],
    ["trace.status IN ('OK', 'done')", 23, 'one of OK, ERROR, IN_PROGRESS'],
    ['trace.status = 1', 15, 'a quoted status'],
    ["timestamp_ms > '5'", 15, 'a number'],
    ["trace.execution_time_ms IN (1, '2')", 31, 'a number'],
    ["trace.name > 'a'", 11, 'an operator allowed for trace.name'],
    ['trace.name = 5', 13, 'a quoted string'],
    ["trace.execution_time_ms LIKE '%1'", 24, 'an operator allowed for trace.execution_time_ms'],
    ['trace.name IS NULL', 11, 'an operator allowed for trace.name'],
    ["trace.text IN ('a')", 11, 'an operator allowed for trace.text'],
    ["span.type < 'LLM'", 10, 'an operator allowed for span.type'],
    ['tag.x = 5', 8, 'a quoted string'],
    ["tag.x >= 'a'", 6, 'an operator allowed for tag.x'],
    ["feedback.score > 'high'", 17, 'a number'],
    ['feedback.x LIKE 5', 16, 'a quoted string'],
    ["feedback.x IN ('a', 1)", 20, 'a quoted string like the first item in the list'],
    ["feedback.x IN (1, 'a')", 18, 'a number like the first item in the list'],
    ["status = 'OK' extra", 14, 'AND or end of input'],
    ["status = 'OK' OR status = 'ERROR'", 14, 'AND or end of input'],
    ["status = 'OK' AND", 17, 'a filter key'],
    ["status = 'OK' AND AND status = 'OK'", 18, 'a filter key'],
    ["AND status = 'OK'", 0, 'a filter key'],
    ["status 'OK'", 7, 'an operator'],
    ['status', 6, 'an operator'],
    ["status == 'OK'", 8, 'a quoted status'],
    ["tag.x NOT LIKE 'a'", 10, 'IN after NOT'],
    ["tag.x IS 'a'", 9, 'NULL or NOT NULL after IS'],
    ["tag.x IS NOT 'a'", 13, 'NULL after IS NOT'],
    ["tag.x IN 'a'", 9, '"(" to start a list of values'],
    ['tag.x IN ()', 10, 'a quoted string'],
    ["tag.x IN ('a',)", 14, 'a quoted string'],
    ["tag.x IN ('a' 'b')", 14, '"," or ")"'],
    ["tag.x IN ('a'", 13, '"," or ")"'],
    ['timestamp_ms > 99999999999999999999', 15, 'a number between'],
    ['timestamp_ms > 1e400', 15, 'a number between'],
    ["tag = 'x'", 4, 'a tag name after "tag."'],
    ["tag.`` = 'x'", 7, 'a tag name after "tag."'],
    ["metadata = 'x'", 9, 'a metadata key after "metadata."'],
    ["tag. x = 'y'", 5, 'a name right after "."'],
    ["tag.x. = 'y'", 7, 'a name right after "."'],
    ["span = 'x'", 5, 'name, type, model or attributes.<key> after "span."'],
    ["span.attributes = 'x'", 16, 'an attribute key after "span.attributes."'],
    ["feedback = 'x'", 9, 'an assessment name after "feedback."'],
    ["status = 'OK' AND ; DROP TABLE traces", 18, 'a filter key'],
    ["status = 'OK' @", 14, 'AND or end of input'],
    ['tag.x = -', 8, 'a quoted string'],
    ["'status' = 'OK'", 0, 'a filter key'],
    ["trace.name LIKE 'abc\\\\'", 16, 'a LIKE pattern that does not end in an unpaired backslash'],
    ["tag.x ILIKE '\\\\\\\\\\\\'", 12, 'a LIKE pattern that does not end in an unpaired backslash'],
  ])('%s -> position %i', (filter, position, expected) => {
    const err = syntaxError(() => compile(filter));
    expect(err.position, err.message).toBe(position);
    expect(err.expected, err.message).toContain(expected);
    expect(err.message).toMatch(new RegExp(`^filter: at position ${position}: expected `));
  });

  it('reports end of input and the whole unknown key', () => {
    expect(syntaxError(() => compile("status = 'OK' AND")).found).toBe('end of input');
    expect(syntaxError(() => compile("tag.x = 'abc")).found).toBe('end of input');
    expect(syntaxError(() => compile("trace.foo = 'x'")).found).toBe('"trace.foo"');
  });

  it('reports the leftmost problem even when later input would not tokenize', () => {
    expect(syntaxError(() => compile("status = AND 'unterminated")).position).toBe(9);
  });
});

describe('compileFilter: injection', () => {
  const HOSTILE = [
    "'; DROP TABLE traces; --",
    "x' OR '1'='1",
    '" OR ""="',
    'back\\slash\\\\', // even: a lone trailing backslash is not a valid LIKE pattern
    "\\'; DROP TABLE spans; --",
    '`tick`` ) OR 1=1 --',
    '{p0:String}',
    '{project:String}) OR (1=1',
    'new\nline\ttab\0nul',
    '%_\\%',
    ')) UNION ALL SELECT trace_id FROM traces --',
    'ünïcødé \u{1F600}',
  ];

  // Every place a user-typed string can go; the hostile text is spliced in three quoting styles.
  const TEMPLATES: Array<(s: string, quote: (s: string) => string) => string> = [
    (s, q) => `tag.${bq(s)} = ${q(s)}`,
    (s, q) => `tag.${q(s)} IS NULL`,
    (s, q) => `metadata.${bq(s)} LIKE ${q(s)}`,
    (s, q) => `span.attributes.${bq(s)} NOT IN (${q(s)}, ${q(s)})`,
    (s, q) => `feedback.${bq(s)} RLIKE ${q(s)}`,
    (s, q) => `expectation.${bq(s)} != ${q(s)}`,
    (s, q) => `trace.text ILIKE ${q(s)} AND trace.text = ${q(s)}`,
    (s, q) => `trace.name IN (${q(s)}) AND span.name = ${q(s)} AND session_id != ${q(s)}`,
  ];

  it.each(HOSTILE)('never puts %j into the SQL text', (hostile) => {
    for (const template of TEMPLATES) {
      for (const quote of [sq, dq]) {
        const filter = template(hostile, quote);
        const out = compile(filter);
        const benign = compile(template('x', sq));
        // The SQL depends only on the filter's shape, never on what the user typed.
        expect(out.conditions, filter).toEqual(benign.conditions);
        const sql = out.conditions.join(' AND ');
        // (A string that spells one of our own placeholders may of course appear: it is ours, not theirs.)
        if (!hostile.startsWith('{')) expect(sql).not.toContain(hostile);
        expect(sql).not.toMatch(/DROP|UNION|--|;|\\|"|`/);
        // Every user-typed string round-trips exactly into the parameters.
        const values = Object.values(out.params).flat();
        expect(values.length, filter).toBeGreaterThan(0);
        for (const v of values) expect(v, filter).toBe(hostile);
      }
    }
  });
});

describe('compileOrderBy', () => {
  it('defaults to newest first', () => {
    expect(compileOrderBy(undefined)).toBe('request_time DESC, trace_id');
    expect(compileOrderBy([])).toBe('request_time DESC, trace_id');
    expect(compileOrderBy('  ')).toBe('request_time DESC, trace_id');
  });

  it('maps whitelisted keys and directions', () => {
    expect(compileOrderBy(['timestamp_ms DESC'])).toBe('request_time DESC, trace_id');
    expect(compileOrderBy(['attributes.execution_time_ms desc', 'trace.name'])).toBe('execution_duration_ns DESC, name, trace_id');
    expect(compileOrderBy('status ASC, timestamp DESC')).toBe('state, request_time DESC, trace_id');
    expect(compileOrderBy(['timestamp_ms', 'trace.timestamp_ms DESC'])).toBe('request_time, trace_id');
  });

  it.each<[string[] | string, string, number, string]>([
    ['foo DESC', 'order_by', 0, 'a filter key'],
    [['timestamp_ms', 'name sideways'], 'order_by[1]', 5, 'ASC, DESC, "," or end of input'],
    ['timestamp_ms DESC name', 'order_by', 18, '"," or end of input'],
    ['tag.x', 'order_by', 0, 'a sortable key'],
    ['timestamp_ms; DROP TABLE traces', 'order_by', 12, 'ASC, DESC'],
    ['timestamp_ms,', 'order_by', 13, 'a filter key'],
  ])('rejects %j', (orderBy, source, position, expected) => {
    const err = syntaxError(() => compileOrderBy(orderBy));
    expect(err.source).toBe(source);
    expect(err.position).toBe(position);
    expect(err.expected).toContain(expected);
    expect(err.message.startsWith(`${source}: at position ${position}: `)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------
// Executed against a real chDB.

const MS = 1_700_000_000_000; // trace t1's request time, in ms
const ns = (ms: number): string => (BigInt(ms) * 1_000_000n).toString();
const FROM_NS = ns(MS - 3_600_000); // search window: an hour before t1 …
const TO_NS = ns(MS + 86_400_000); // … to a day after
const SCOPE = 'start_time >= fromUnixTimestamp64Nano({from_ns:Int64}) AND start_time < fromUnixTimestamp64Nano({to_ns:Int64})';

/** A `traces` row with the columns a test leaves out empty (their defaults in the table). */
function trace(row: Partial<Omit<TraceRow, 'request_time_ns'>> & Pick<TraceRow, 'trace_id' | 'version' | 'state' | 'name'> & { ms: number; exec_ms?: number }): TraceRow {
  const { ms, exec_ms, ...rest } = row;
  return {
    project: 'demo',
    root_span_id: '',
    service_name: '',
    request_preview: '',
    response_preview: '',
    ...rest,
    request_time_ns: ns(ms),
    execution_duration_ns: ns(exec_ms ?? 0),
  };
}

const { placeholder: PLACEHOLDER, root: ROOT } = TRACE_ROW_VERSION;
const TRACES: TraceRow[] = [
  // t1 has an IN_PROGRESS placeholder that its root row (higher version) must win over.
  placeholderTraceRow({ project: 'demo', trace_id: 't1', start_time_ns: ns(MS), service_name: '' }),
  trace({ trace_id: 't1', version: ROOT, ms: MS, exec_ms: 1500, state: 'OK', name: 'chat', request_preview: 'What is the refund policy?', response_preview: 'Refunds are accepted within 30 days.' }),
  trace({ trace_id: 't2', version: ROOT, ms: MS + 1000, exec_ms: 250, state: 'ERROR', name: 'retrieval', request_preview: 'find docs about billing' }),
  trace({ trace_id: 't3', version: PLACEHOLDER, ms: MS + 2000, state: 'IN_PROGRESS', name: 'agent run' }),
  trace({ trace_id: 't4', version: ROOT, ms: MS + 3000, exec_ms: 3200, state: 'OK', name: 'Chat', request_preview: 'Bonjour', response_preview: 'it\'s 100% "done" \\ ok' }),
  // Outside the time window, and another project: never returned.
  trace({ trace_id: 't5', version: ROOT, ms: MS + 10 * 86_400_000, exec_ms: 9000, state: 'OK', name: 'chat', request_preview: 'refund' }),
  trace({ project: 'other', trace_id: 't6', version: ROOT, ms: MS, exec_ms: 9000, state: 'OK', name: 'chat', request_preview: 'refund' }),
];

function span(row: Record<string, unknown> & { trace_id: string; span_id: string; ms: number }): Record<string, unknown> {
  const { ms, ...rest } = row;
  return { project: 'demo', start_time_ns: ns(ms), end_time_ns: ns(ms + 10), ...rest };
}

const SPANS = [
  span({ trace_id: 't1', span_id: 's1a', ms: MS, name: 'chat', span_type: 'CHAIN', session_id: 'sess-1', user_id: 'alice', tags: { env: 'prod', 'my key.with dots': 'dotted' }, metadata: { 'mlflow.source': 'notebook' }, inputs: '{"question":"refund?"}', outputs: '{"answer":"30 days"}' }),
  span({ trace_id: 't1', span_id: 's1b', ms: MS + 1, parent_span_id: 's1a', name: 'openai.chat', span_type: 'LLM', model: 'gpt-4o', attributes: { 'llm.temperature': '0.2' }, inputs: '{"messages":[{"role":"user","content":"refund?"}]}', outputs: 'ok' }),
  // A resent copy of a span (not yet merged away) must not change any result.
  span({ trace_id: 't1', span_id: 's1b', ms: MS + 1, parent_span_id: 's1a', name: 'openai.chat', span_type: 'LLM', model: 'gpt-4o', attributes: { 'llm.temperature': '0.2' } }),
  span({ trace_id: 't2', span_id: 's2a', ms: MS + 1000, name: 'retrieval', span_type: 'CHAIN', session_id: 'sess-2', user_id: 'bob', tags: { env: 'staging' } }),
  span({ trace_id: 't2', span_id: 's2b', ms: MS + 1001, name: 'vector.search', span_type: 'RETRIEVER', inputs: '{"query":"billing"}', outputs: '[{"doc":"Invoice FAQ"}]' }),
  span({ trace_id: 't2', span_id: 's2c', ms: MS + 1002, name: 'anthropic.messages', span_type: 'LLM', model: 'claude-3-5-sonnet', attributes: { 'llm.temperature': '0.7' } }),
  span({ trace_id: 't3', span_id: 's3a', ms: MS + 2000, name: 'agent run', span_type: 'AGENT' }),
  span({ trace_id: 't3', span_id: 's3b', ms: MS + 2001, name: 'search', span_type: 'TOOL', tags: { 'we\'ird"key\\': "val'ue" }, inputs: '{"q":"it\'s a \\"quote\\" and a \\\\ backslash; DROP TABLE spans"}' }),
  span({ trace_id: 't4', span_id: 's4a', ms: MS + 3000, name: 'Chat', span_type: 'CHAIN', session_id: 'sess-1', user_id: 'carol', tags: { env: 'prod', empty: '' } }),
  span({ trace_id: 't4', span_id: 's4b', ms: MS + 3001, name: 'openai.chat', span_type: 'LLM', model: 'gpt-4o-mini' }),
  // Starts before the search window: only visible without a span time scope.
  span({ trace_id: 't4', span_id: 's4c', ms: MS - 2 * 86_400_000, name: 'early', span_type: 'CHAIN', attributes: { late: 'yes' } }),
  span({ trace_id: 't5', span_id: 's5a', ms: MS + 10 * 86_400_000, name: 'chat', span_type: 'LLM', session_id: 'sess-1', tags: { env: 'prod' } }),
  // Same trace id as t3 in another project: must not leak into project demo.
  span({ project: 'other', trace_id: 't3', span_id: 'x', ms: MS + 2000, name: 'openai.chat', span_type: 'LLM', model: 'gpt-4o', session_id: 'sess-1', user_id: 'alice', tags: { env: 'prod' } }),
];

function assessment(row: Record<string, unknown> & { trace_id: string; assessment_id: string; ms: number }): Record<string, unknown> {
  const { ms, ...rest } = row;
  return { project: 'demo', version: 1, kind: 'feedback', valid: 1, deleted: 0, created_time_ns: ns(ms), last_updated_time_ns: ns(ms), ...rest };
}

const T = MS + 60_000;
const ASSESSMENTS = [
  // t1 correct: version 2 flips it to false.
  assessment({ trace_id: 't1', assessment_id: 'a1', name: 'correct', value_text: 'true', ms: T }),
  assessment({ trace_id: 't1', assessment_id: 'a1', version: 2, name: 'correct', value_text: 'false', ms: T }),
  // t2 correct: the newer one is invalid (overridden), so the older valid one counts.
  assessment({ trace_id: 't2', assessment_id: 'a2', name: 'correct', value_text: 'true', ms: T }),
  assessment({ trace_id: 't2', assessment_id: 'a3', name: 'correct', value_text: 'false', valid: 0, ms: T + 1 }),
  // t3 correct: deleted in its latest version.
  assessment({ trace_id: 't3', assessment_id: 'a4', name: 'correct', value_text: 'true', ms: T }),
  assessment({ trace_id: 't3', assessment_id: 'a4', version: 2, name: 'correct', value_text: 'true', deleted: 1, ms: T }),
  assessment({ trace_id: 't4', assessment_id: 'a14', name: 'correct', value_text: "don't know", ms: T }),
  assessment({ trace_id: 't1', assessment_id: 'a5', name: 'score', value_text: '0.9', ms: T }),
  assessment({ trace_id: 't2', assessment_id: 'a6', name: 'score', value_text: '0.40', ms: T }),
  assessment({ trace_id: 't4', assessment_id: 'a7', name: 'score', value_text: 'n/a', ms: T }),
  assessment({ trace_id: 't4', assessment_id: 'a8', kind: 'expectation', name: 'answer', value_text: 'Paris', ms: T }),
  assessment({ trace_id: 't4', assessment_id: 'a9', name: 'answer', value_text: 'London', ms: T }),
  // t2 relevance: two valid ones, the most recently created wins.
  assessment({ trace_id: 't2', assessment_id: 'a10', name: 'relevance', value_text: '1', ms: T }),
  assessment({ trace_id: 't2', assessment_id: 'a11', name: 'relevance', value_text: '3', ms: T + 5 }),
  assessment({ trace_id: 't1', assessment_id: 'a12', name: 'relevance', value_text: '2', ms: T }),
  // t3: renamed from tone to politeness; the old name must not match any more.
  assessment({ trace_id: 't3', assessment_id: 'a13', name: 'tone', value_text: 'rude', ms: T }),
  assessment({ trace_id: 't3', assessment_id: 'a13', version: 2, name: 'politeness', value_text: 'rude', ms: T }),
  assessment({ project: 'other', trace_id: 't3', assessment_id: 'x1', name: 'correct', value_text: 'true', ms: T }),
];

describe('compiled filters on chDB', () => {
  let dir: string;
  let client: ClickHouseClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tracehouse-filter-'));
    // chdb bundles its own copy of the client-common types, structurally equal but nominally distinct.
    type Connection = NonNullable<Parameters<typeof createClient>[0]>['connection'];
    client = createClient({ connection: createChdbConnection({ path: dir }) as unknown as Connection });
    for (const migration of MIGRATIONS) for (const query of migration.statements) await client.command({ query });
    // Row versions must stay unmerged for the queries' own dedup to be tested: each row goes in as its
    // own insert (optimize_on_insert would collapse versions within one block) and merges are stopped.
    for (const table of ['traces', 'spans', 'assessments']) await client.command({ query: `SYSTEM STOP MERGES ${table}` });
    const tables: Array<[string, Array<object>]> = [['traces', TRACES], ['spans', SPANS], ['assessments', ASSESSMENTS]];
    for (const [table, rows] of tables) {
      for (const row of rows) await client.insert({ table, values: [row], format: 'JSONEachRow' });
      const result = await client.query({ query: `SELECT count() AS n FROM ${table}`, format: 'JSONEachRow' });
      const [count] = await result.json<{ n: string }>();
      expect(Number(count?.n)).toBe(rows.length);
    }
  });

  afterAll(async () => {
    await client?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function search(filter: string, opts: { scoped?: boolean; orderBy?: string[] } = {}): Promise<string[]> {
    const compiled = compileFilter(filter, { projectParam: 'project', spanTimeScope: opts.scoped === false ? '' : SCOPE });
    const where = compiled.conditions.length === 0 ? '' : `WHERE ${compiled.conditions.join(' AND ')}`;
    const query = `SELECT trace_id FROM (
        SELECT trace_id, request_time_ns, request_time, execution_duration_ns, state, name, service_name, request_preview, response_preview, root_span_id
        FROM traces WHERE project = {project:String}
          AND request_time >= fromUnixTimestamp64Nano({from_ns:Int64}) AND request_time < fromUnixTimestamp64Nano({to_ns:Int64})
        ORDER BY trace_id, version DESC LIMIT 1 BY trace_id) AS t
      ${where}
      ORDER BY ${compileOrderBy(opts.orderBy)}`;
    const result = await client.query({
      query,
      query_params: { project: 'demo', from_ns: FROM_NS, to_ns: TO_NS, ...compiled.params },
      format: 'JSONEachRow',
    });
    const rows = await result.json<{ trace_id: string }>();
    const ids = rows.map((r) => r.trace_id);
    return opts.orderBy ? ids : ids.sort();
  }

  const ALL = ['t1', 't2', 't3', 't4'];

  it.each<[string, string[]]>([
    ['', ALL],
    // trace columns
    ["trace.status = 'OK'", ['t1', 't4']],
    ["status = 'in_progress'", ['t3']],
    ["trace.state != 'OK'", ['t2', 't3']],
    ["attributes.status IN ('ERROR', 'IN_PROGRESS')", ['t2', 't3']],
    ["status NOT IN ('ok')", ['t2', 't3']],
    [`trace.timestamp_ms >= ${MS + 1000}`, ['t2', 't3', 't4']],
    [`timestamp < ${MS + 1000}`, ['t1']],
    [`timestamp_ms = ${MS + 2000}`, ['t3']],
    [`trace.timestamp_ms IN (${MS}, ${MS + 3000})`, ['t1', 't4']],
    ['timestamp_ms > -1', ALL],
    ['execution_time_ms > 1000', ['t1', 't4']],
    ['execution_time_ms <= 250', ['t2', 't3']],
    ['execution_time_ms != 1500', ['t2', 't3', 't4']],
    ['execution_time_ms >= 1499.5', ['t1', 't4']],
    ['execution_time_ms NOT IN (250, 0)', ['t1', 't4']],
    ["trace.name = 'chat'", ['t1']],
    ["name ILIKE 'chat'", ['t1', 't4']],
    ["name LIKE 'C%'", ['t4']],
    ["name RLIKE '^(chat|retrieval)$'", ['t1', 't2']],
    ["name IN ('Chat', 'agent run')", ['t3', 't4']],
    ["name != 'chat'", ['t2', 't3', 't4']],
    ["name NOT IN ('chat', 'Chat')", ['t2', 't3']],
    // trace.text
    ["trace.text LIKE '%refund%'", ['t1']],
    ["trace.text ILIKE '%BILLING%'", ['t2']],
    ["trace.text = 'Invoice FAQ'", ['t2']],
    ["trace.text = 'invoice faq'", []],
    ["trace.text != 'refund'", ['t2', 't3', 't4']],
    ["trace.text RLIKE 'DROP TABLE'", ['t3']],
    [`trace.text = '100% "done"'`, ['t4']],
    ["trace.text LIKE '%100\\%%'", ['t4']],
    ["trace.text LIKE '%30\\%%'", []],
    ["trace.text = '\\\\'", ['t3', 't4']],
    ["trace.text LIKE '%\\\\\\\\%'", ['t3', 't4']],
    // span columns: some span matches / no span has it
    ["session_id = 'sess-1'", ['t1', 't4']],
    ["trace.session_id != 'sess-1'", ['t2', 't3']],
    ['session_id IS NULL', ['t3']],
    ['session_id IS NOT NULL', ['t1', 't2', 't4']],
    ["session_id IN ('sess-2', 'zzz')", ['t2']],
    ["session_id NOT IN ('sess-2')", ['t1', 't3', 't4']],
    ["session_id LIKE 'sess-%'", ['t1', 't2', 't4']],
    ["session_id = ''", []],
    ["user_id = 'alice'", ['t1']],
    ["trace.user_id ILIKE 'BOB'", ['t2']],
    ["user_id RLIKE '^(alice|carol)$'", ['t1', 't4']],
    ["span.type = 'LLM'", ['t1', 't2', 't4']],
    ["span.type != 'LLM'", ['t3']],
    ["span.type IN ('TOOL', 'RETRIEVER')", ['t2', 't3']],
    ["span.type NOT IN ('TOOL', 'RETRIEVER')", ['t1', 't4']],
    ["span.name = 'openai.chat'", ['t1', 't4']],
    ["span.name LIKE 'anthropic.%'", ['t2']],
    ["span.model = 'gpt-4o'", ['t1']],
    ["span.model LIKE 'gpt-4o%'", ['t1', 't4']],
    ['span.model IS NULL', ['t3']],
    ["span.model != 'gpt-4o'", ['t2', 't3', 't4']],
    // span maps
    ["tag.env = 'prod'", ['t1', 't4']],
    ["tags.env != 'prod'", ['t2', 't3']],
    ['tag.env IS NULL', ['t3']],
    ["tag.`my key.with dots` = 'dotted'", ['t1']],
    ["tag.\"my key.with dots\" = 'dotted'", ['t1']],
    ["tag.empty = ''", ['t4']],
    ['tag.empty IS NOT NULL', ['t4']],
    ["tag.missing = ''", []],
    ["tag.env IN ('staging', 'qa')", ['t2']],
    ["tag.`we'ird\"key\\\\` = 'val\\'ue'", ['t3']],
    [`tag."we'ird\\"key\\\\" = "val'ue"`, ['t3']],
    ["metadata.mlflow.source = 'notebook'", ['t1']],
    ["request_metadata.`mlflow.source` LIKE 'note%'", ['t1']],
    ['metadata.mlflow.source IS NULL', ['t2', 't3', 't4']],
    ["span.attributes.llm.temperature = '0.7'", ['t2']],
    ['span.attributes.`llm.temperature` IS NOT NULL', ['t1', 't2']],
    ["span.attributes.late = 'yes'", []],
    // assessments
    ["feedback.correct = 'true'", ['t2']],
    ["feedback.correct = 'false'", ['t1']],
    ["feedback.correct != 'true'", ['t1', 't4']],
    ['feedback.correct IS NULL', ['t3']],
    ['feedback.correct IS NOT NULL', ['t1', 't2', 't4']],
    [`feedback.correct = "don't know"`, ['t4']],
    ["feedback.correct = 'don''t know'", ['t4']],
    ["feedback.correct IN ('true', 'false')", ['t1', 't2']],
    ["feedback.correct NOT IN ('true')", ['t1', 't4']],
    ['feedback.score > 0.5', ['t1']],
    ['feedback.score <= 0.4', ['t2']],
    ['feedback.score = 0.4', ['t2']],
    ['feedback.score != 0.9', ['t2']],
    ["feedback.score = 'n/a'", ['t4']],
    ['feedback.score IN (0.9, 0.4)', ['t1', 't2']],
    ['feedback.score NOT IN (0.9)', ['t2']],
    ['feedback.relevance >= 2', ['t1', 't2']],
    ['feedback.relevance = 1', []],
    ["expectation.answer = 'Paris'", ['t4']],
    ["feedback.answer = 'Paris'", []],
    ["feedback.answer LIKE 'Lon%'", ['t4']],
    ['expectation.correct IS NOT NULL', []],
    ['feedback.tone IS NULL', ALL],
    ["feedback.politeness = 'rude'", ['t3']],
    // combinations
    ["trace.status = 'OK' AND span.type = 'LLM' AND tag.env = 'prod' AND feedback.correct = 'false'", ['t1']],
    ["status = 'OK' and session_id = 'sess-1' and trace.text ILIKE '%bonjour%'", ['t4']],
  ])('%s', async (filter, expected) => {
    expect(await search(filter)).toEqual(expected);
  });

  it('scopes span subqueries to the time window only when asked', async () => {
    expect(await search("span.attributes.late = 'yes'", { scoped: true })).toEqual([]);
    expect(await search("span.attributes.late = 'yes'", { scoped: false })).toEqual(['t4']);
    expect(await search("span.name = 'early'", { scoped: false })).toEqual(['t4']);
  });

  it('runs hostile input as plain data', async () => {
    const hostile = "x'); DROP TABLE traces; --\n\t\\ \u{1F600}";
    expect(await search(`tag.${bq(hostile)} = ${sq(hostile)}`)).toEqual([]);
    expect(await search(`trace.text = ${dq(hostile)} AND span.name IN (${sq(hostile)})`)).toEqual([]);
    expect(await search(`feedback.${bq(hostile)} IS NULL`)).toEqual(ALL);
    // …and the tables are all still there.
    expect(await search("span.type = 'LLM' AND feedback.correct IS NOT NULL")).toEqual(['t1', 't2', 't4']);
  });

  it('orders by the compiled ORDER BY', async () => {
    expect(await search('', { orderBy: [] })).toEqual(['t4', 't3', 't2', 't1']);
    expect(await search('', { orderBy: ['execution_time_ms DESC'] })).toEqual(['t4', 't1', 't2', 't3']);
    expect(await search('', { orderBy: ['name'] })).toEqual(['t4', 't3', 't1', 't2']);
    expect(await search('', { orderBy: ['status DESC', 'timestamp_ms'] })).toEqual(['t1', 't4', 't3', 't2']);
  });
});
