import { describe, expect, it } from 'vitest';

import { compileFilter, compileOrderBy, FilterSyntaxError, type FilterContext } from '../../src/query/filter/index.js';
import { bq, dq, sq } from '../helpers/filter-literals.js';

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

/** The trace-level keys' subquery (trace_meta) a span key's condition is ORed with. */
const meta = (proj: string, field: string, key: string, cond: string): string =>
  `SELECT trace_id FROM (SELECT trace_id, argMax(value, version) AS value, argMax(deleted, version) AS gone FROM trace_meta ` +
  `WHERE project = {${proj}:String} AND field = '${field}' AND key = ${key} GROUP BY trace_id) WHERE gone = 0 AND (${cond})`;

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
    const sub = (cond: string) => `SELECT trace_id FROM spans WHERE project = {proj:String} AND (start_time >= {from:DateTime64(9)}) AND (${cond})`;
    expect(compile("span.type = 'LLM'", ctx).conditions).toEqual([`trace_id IN (${sub("span_type != '' AND span_type = {p0:String}")})`]);
    expect(compile("span.type != 'LLM'", ctx).conditions).toEqual([`trace_id NOT IN (${sub("span_type != '' AND span_type = {p0:String}")})`]);
    expect(compile("span.name NOT IN ('a')", ctx).conditions).toEqual([`trace_id NOT IN (${sub("name != '' AND name IN {p0:Array(String)}")})`]);
    expect(compile("span.model RLIKE 'gpt'", ctx).conditions).toEqual([`trace_id IN (${sub("model != '' AND match(model, {p0:String})")})`]);
    // Session and user also match what was set on the trace itself (trace_meta, MLflow's trace info).
    expect(compile('session_id IS NULL', ctx).conditions).toEqual([
      `NOT (trace_id IN (${sub("session_id != ''")}) OR trace_id IN (${meta('proj', 'session_id', "''", "value != ''")}))`,
    ]);
    expect(compile('trace.user_id IS NOT NULL', ctx).conditions).toEqual([
      `(trace_id IN (${sub("user_id != ''")}) OR trace_id IN (${meta('proj', 'user_id', "''", "value != ''")}))`,
    ]);
    // No time scope: no empty "AND ()".
    expect(compile("session_id = 's'").conditions).toEqual([
      `(trace_id IN (SELECT trace_id FROM spans WHERE project = {project:String} AND (session_id != '' AND session_id = {p0:String})) OR trace_id IN (${meta('project', 'session_id', "''", 'value = {p0:String}')}))`,
    ]);
  });

  it('compiles map keys with the key as a parameter and mapContains for presence', () => {
    const sub = (cond: string) => `SELECT trace_id FROM spans WHERE project = {project:String} AND (${cond})`;
    const m = (field: string, cond: string) => meta('project', field, '{p0:String}', cond);
    expect(compile("tag.env = 'prod'")).toEqual({
      conditions: [
        `(trace_id IN (${sub('mapContains(tags, {p0:String}) AND tags[{p0:String}] = {p1:String}')}) OR trace_id IN (${m('tag', 'value = {p1:String}')}))`,
      ],
      params: { p0: 'env', p1: 'prod' },
    });
    expect(compile("metadata.k ILIKE 'x%'").conditions).toEqual([
      `(trace_id IN (${sub('mapContains(metadata, {p0:String}) AND metadata[{p0:String}] ILIKE {p1:String}')}) OR trace_id IN (${m('metadata', 'value ILIKE {p1:String}')}))`,
    ]);
    expect(compile("span.attributes.k != 'v'").conditions).toEqual([
      `trace_id NOT IN (${sub('mapContains(attributes, {p0:String}) AND attributes[{p0:String}] = {p1:String}')})`,
    ]);
    expect(compile('tag.k IS NULL').conditions).toEqual([
      `NOT (trace_id IN (${sub('mapContains(tags, {p0:String})')}) OR trace_id IN (${m('tag', "value != ''")}))`,
    ]);
    expect(compile('tag.k IS NOT NULL').conditions).toEqual([
      `(trace_id IN (${sub('mapContains(tags, {p0:String})')}) OR trace_id IN (${m('tag', "value != ''")}))`,
    ]);
  });

  it('compiles trace.text over previews, span payloads and log events', () => {
    const like = compile("trace.text LIKE '%refund%'");
    expect(like.params).toEqual({ p0: '%refund%' });
    expect(like.conditions).toEqual([
      '(request_preview LIKE {p0:String} OR response_preview LIKE {p0:String} OR trace_id IN (SELECT trace_id FROM spans WHERE project = {project:String} AND (inputs LIKE {p0:String} OR outputs LIKE {p0:String})) OR ' +
        "trace_id IN (SELECT trace_id FROM events WHERE project = {project:String} AND (body LIKE {p0:String} OR arrayStringConcat(mapValues(attributes), ' ') LIKE {p0:String})))",
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
