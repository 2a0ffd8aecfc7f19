import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { compileFilter, compileOrderBy } from '../../src/query/filter/index.js';
import { MIGRATIONS } from '../../src/exporters/clickhouse/schema.js';
import { placeholderTraceRow, TRACE_ROW_VERSION, type TraceRow } from '../../src/exporters/clickhouse/tables.js';
import { bq, dq, sq } from '../helpers/filter-literals.js';

/** The SQL the filter grammar compiles to, run on the embedded engine against hand-made rows. */
const MS = 1_700_000_000_000; // trace t1's request time, in ms
const ns = (ms: number): string => (BigInt(ms) * 1_000_000n).toString();
const FROM_NS = ns(MS - 3_600_000); // search window: an hour before t1 …
const TO_NS = ns(MS + 86_400_000); // … to a day after
const SCOPE = 'start_time >= fromUnixTimestamp64Nano({from_ns:Int64}) AND start_time < fromUnixTimestamp64Nano({to_ns:Int64})';

/** A `traces` row with the columns a test leaves out empty (their defaults in the table). */
function trace(
  row: Partial<Omit<TraceRow, 'request_time_ns'>> & Pick<TraceRow, 'trace_id' | 'version' | 'state' | 'name'> & { ms: number; exec_ms?: number },
): TraceRow {
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
  trace({
    trace_id: 't1',
    version: ROOT,
    ms: MS,
    exec_ms: 1500,
    state: 'OK',
    name: 'chat',
    request_preview: 'What is the refund policy?',
    response_preview: 'Refunds are accepted within 30 days.',
  }),
  trace({ trace_id: 't2', version: ROOT, ms: MS + 1000, exec_ms: 250, state: 'ERROR', name: 'retrieval', request_preview: 'find docs about billing' }),
  trace({ trace_id: 't3', version: PLACEHOLDER, ms: MS + 2000, state: 'IN_PROGRESS', name: 'agent run' }),
  trace({
    trace_id: 't4',
    version: ROOT,
    ms: MS + 3000,
    exec_ms: 3200,
    state: 'OK',
    name: 'Chat',
    request_preview: 'Bonjour',
    response_preview: 'it\'s 100% "done" \\ ok',
  }),
  // Outside the time window, and another project: never returned.
  trace({ trace_id: 't5', version: ROOT, ms: MS + 10 * 86_400_000, exec_ms: 9000, state: 'OK', name: 'chat', request_preview: 'refund' }),
  trace({ project: 'other', trace_id: 't6', version: ROOT, ms: MS, exec_ms: 9000, state: 'OK', name: 'chat', request_preview: 'refund' }),
];

function span(row: Record<string, unknown> & { trace_id: string; span_id: string; ms: number }): Record<string, unknown> {
  const { ms, ...rest } = row;
  return { project: 'demo', start_time_ns: ns(ms), end_time_ns: ns(ms + 10), ...rest };
}

const SPANS = [
  span({
    trace_id: 't1',
    span_id: 's1a',
    ms: MS,
    name: 'chat',
    span_type: 'CHAIN',
    session_id: 'sess-1',
    user_id: 'alice',
    tags: { env: 'prod', 'my key.with dots': 'dotted' },
    metadata: { 'mlflow.source': 'notebook' },
    inputs: '{"question":"refund?"}',
    outputs: '{"answer":"30 days"}',
  }),
  span({
    trace_id: 't1',
    span_id: 's1b',
    ms: MS + 1,
    parent_span_id: 's1a',
    name: 'openai.chat',
    span_type: 'LLM',
    model: 'gpt-4o',
    attributes: { 'llm.temperature': '0.2' },
    inputs: '{"messages":[{"role":"user","content":"refund?"}]}',
    outputs: 'ok',
  }),
  // A resent copy of a span (not yet merged away) must not change any result.
  span({
    trace_id: 't1',
    span_id: 's1b',
    ms: MS + 1,
    parent_span_id: 's1a',
    name: 'openai.chat',
    span_type: 'LLM',
    model: 'gpt-4o',
    attributes: { 'llm.temperature': '0.2' },
  }),
  span({
    trace_id: 't2',
    span_id: 's2a',
    ms: MS + 1000,
    name: 'retrieval',
    span_type: 'CHAIN',
    session_id: 'sess-2',
    user_id: 'bob',
    tags: { env: 'staging' },
  }),
  span({
    trace_id: 't2',
    span_id: 's2b',
    ms: MS + 1001,
    name: 'vector.search',
    span_type: 'RETRIEVER',
    inputs: '{"query":"billing"}',
    outputs: '[{"doc":"Invoice FAQ"}]',
  }),
  span({
    trace_id: 't2',
    span_id: 's2c',
    ms: MS + 1002,
    name: 'anthropic.messages',
    span_type: 'LLM',
    model: 'claude-3-5-sonnet',
    attributes: { 'llm.temperature': '0.7' },
  }),
  span({ trace_id: 't3', span_id: 's3a', ms: MS + 2000, name: 'agent run', span_type: 'AGENT' }),
  span({
    trace_id: 't3',
    span_id: 's3b',
    ms: MS + 2001,
    name: 'search',
    span_type: 'TOOL',
    tags: { 'we\'ird"key\\': "val'ue" },
    inputs: '{"q":"it\'s a \\"quote\\" and a \\\\ backslash; DROP TABLE spans"}',
  }),
  span({
    trace_id: 't4',
    span_id: 's4a',
    ms: MS + 3000,
    name: 'Chat',
    span_type: 'CHAIN',
    session_id: 'sess-1',
    user_id: 'carol',
    tags: { env: 'prod', empty: '' },
  }),
  span({ trace_id: 't4', span_id: 's4b', ms: MS + 3001, name: 'openai.chat', span_type: 'LLM', model: 'gpt-4o-mini' }),
  // Starts before the search window: only visible without a span time scope.
  span({ trace_id: 't4', span_id: 's4c', ms: MS - 2 * 86_400_000, name: 'early', span_type: 'CHAIN', attributes: { late: 'yes' } }),
  span({ trace_id: 't5', span_id: 's5a', ms: MS + 10 * 86_400_000, name: 'chat', span_type: 'LLM', session_id: 'sess-1', tags: { env: 'prod' } }),
  // Same trace id as t3 in another project: must not leak into project demo.
  span({
    project: 'other',
    trace_id: 't3',
    span_id: 'x',
    ms: MS + 2000,
    name: 'openai.chat',
    span_type: 'LLM',
    model: 'gpt-4o',
    session_id: 'sess-1',
    user_id: 'alice',
    tags: { env: 'prod' },
  }),
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
    const tables: Array<[string, Array<object>]> = [
      ['traces', TRACES],
      ['spans', SPANS],
      ['assessments', ASSESSMENTS],
    ];
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
    ['tag."my key.with dots" = \'dotted\'', ['t1']],
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
