import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openStore, type Store } from '../../src/exporters/clickhouse/client.js';
import { insertRows } from '../../src/exporters/clickhouse/insert.js';
import { migrate } from '../../src/exporters/clickhouse/migrate.js';
import { StoreWriter } from '../../src/exporters/clickhouse/writer.js';
import { TRACE_ROW_VERSION, type EventRow, type TraceMetaRow } from '../../src/exporters/clickhouse/tables.js';
import { AssessmentStore } from '../../src/assessments/store.js';
import type { SpanGroup } from '../../src/component/consumer.js';
import { decodeTraceRequest } from '../../src/otlp/decode.js';
import { validateTraceRequest } from '../../src/otlp/validate.js';
import { TraceReader, type SearchParams } from '../../src/query/trace-reader.js';
import { removeDir } from '../helpers/app.js';
import { FIXTURE_NAMES, fixtureSpans } from '../helpers/fixtures.js';
import { ReferenceTraceReader } from '../helpers/reference-trace-reader.js';

/**
 * TraceReader's one-statement reads (getTraceRecord, a search page and its summaries) against the
 * statement-per-table reader they replaced, on the same store: every fixture written through the real
 * writer, in two batches (children first, so placeholders exist beside the root rows) and one fixture
 * sent twice (resent spans and trace rows, merges stopped so the copies stay), with log records,
 * assessments (edited, deleted, on several traces) and trace-level metadata.
 */
const PROJECT = 'reader';
const ORPHAN = 'fe'.repeat(16); // sorts after the fixtures' ids, which the test picks from the front
let store: Store;
let dir: string;
let ids: string[];
let reader: TraceReader;
let reference: ReferenceTraceReader;

function groups(spans: ReturnType<typeof fixtureSpans>): SpanGroup[] {
  const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array);
  const { accepted } = validateTraceRequest(decodeTraceRequest(body, 'protobuf'));
  return accepted.resourceSpans.flatMap((rs) => rs.scopeSpans.map((ss) => ({ project: PROJECT, resource: rs.resource, scope: ss.scope, spans: ss.spans })));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tracehouse-reader-'));
  store = await openStore(loadConfig({ env: {}, overrides: { 'store.path': dir } }).store);
  await migrate(store.writer);
  for (const table of ['traces', 'spans', 'span_index', 'events', 'assessments', 'trace_meta']) {
    await store.writer.command({ query: `SYSTEM STOP MERGES ${table}` });
  }
  const writer = new StoreWriter(store.writer, { previewChars: 200 });
  for (const [i, name] of FIXTURE_NAMES.entries()) {
    const spans = fixtureSpans(name, 60_000 + i * 1000);
    const roots = spans.filter((s) => !s.parentSpanContext);
    const children = spans.filter((s) => s.parentSpanContext);
    if (children.length) await writer.consume({ spans: groups(children), logs: [] });
    await writer.consume({ spans: groups(roots), logs: [] });
    // One fixture is resent whole: its spans and trace row exist twice until merged.
    if (i === 0) await writer.consume({ spans: groups(spans), logs: [] });
  }
  // A trace whose root never arrived, in two batches: only placeholders, and with no root span to find a
  // root row by, getTraceRecord makes its summary from the spans.
  const orphan = groups(fixtureSpans(FIXTURE_NAMES[1] as (typeof FIXTURE_NAMES)[number], 50_000).filter((s) => s.parentSpanContext));
  const orphanGroups = orphan.map((g) => ({ ...g, spans: g.spans.map((s) => ({ ...s, traceId: ORPHAN })) }));
  await writer.consume({ spans: orphanGroups, logs: [] });
  await writer.consume({ spans: orphanGroups, logs: [] });
  const rs = await store.reader.query({
    query: 'SELECT DISTINCT trace_id FROM traces WHERE project = {p:String} ORDER BY trace_id',
    query_params: { p: PROJECT },
    format: 'JSONEachRow',
  });
  ids = (await rs.json<{ trace_id: string }>()).map((r) => r.trace_id);
  expect(ids.length).toBeGreaterThanOrEqual(FIXTURE_NAMES.length);
  const [a, b, c] = ids as [string, string, string];

  const spanOf = async (traceId: string): Promise<string> => {
    const r = await store.reader.query({
      query: 'SELECT span_id FROM spans WHERE trace_id = {t:String} ORDER BY span_id LIMIT 1',
      query_params: { t: traceId },
      format: 'JSONEachRow',
    });
    return ((await r.json<{ span_id: string }>())[0] as { span_id: string }).span_id;
  };
  const now = BigInt(Date.now()) * 1_000_000n;
  const events: EventRow[] = [0, 1, 2].map((k) => ({
    project: PROJECT,
    trace_id: a,
    span_id: '',
    time_ns: String(now - BigInt(30_000 - k) * 1_000_000n),
    event_id: `e${k}`,
    event_name: 'gen_ai.user.message',
    severity_number: 9,
    severity_text: 'INFO',
    service_name: 'svc',
    body: JSON.stringify({ content: `question ${k}` }),
    attributes: { 'gen_ai.system': 'openai', n: String(k) },
    resource_attributes: {},
  }));
  events[1] = { ...(events[1] as EventRow), span_id: await spanOf(a) };
  await insertRows(store.writer, 'events', events);
  await insertRows(store.writer, 'events', [events[0] as EventRow]); // a resent log record

  const assessments = new AssessmentStore(store.writer, store.reader);
  const base = { project: PROJECT, spanId: '', rationale: 'because', sourceType: 'LLM_JUDGE' as const, sourceId: 'judge', error: '', metadata: {} };
  const correct = await assessments.create({ ...base, traceId: a, name: 'correctness', kind: 'feedback', value: 'yes' });
  await assessments.update(correct, { value: 'no', rationale: 'on second thought' });
  const gone = await assessments.create({ ...base, traceId: a, name: 'tone', kind: 'feedback', value: 0.4 });
  await assessments.remove(gone);
  await assessments.create({ ...base, traceId: b, name: 'correctness', kind: 'feedback', value: 'yes' });
  await assessments.create({ ...base, traceId: b, name: 'expected', kind: 'expectation', value: { answer: 42 } });
  await assessments.create({ ...base, traceId: c, name: 'correctness', kind: 'feedback', value: 'yes', spanId: await spanOf(c) });

  const meta: TraceMetaRow[] = [
    { project: PROJECT, trace_id: a, field: 'tag', key: 'env', value: 'prod', version: '1', deleted: 0 },
    { project: PROJECT, trace_id: a, field: 'tag', key: 'env', value: 'staging', version: '2', deleted: 0 },
    { project: PROJECT, trace_id: a, field: 'session_id', key: '', value: 'sess-1', version: '1', deleted: 0 },
    { project: PROJECT, trace_id: b, field: 'metadata', key: 'k', value: 'v', version: '1', deleted: 0 },
    { project: PROJECT, trace_id: b, field: 'tag', key: 'old', value: 'x', version: '1', deleted: 0 },
    { project: PROJECT, trace_id: b, field: 'tag', key: 'old', value: 'x', version: '2', deleted: 1 },
  ];
  await insertRows(store.writer, 'trace_meta', meta);
  reader = new TraceReader(store.reader);
  reference = new ReferenceTraceReader(store.reader);
}, 120_000);

afterAll(async () => {
  await store?.close();
  removeDir(dir);
});

describe('TraceReader one-statement reads', () => {
  it('the store holds what the comparison needs: placeholders, resent copies, events, assessments', async () => {
    const count = async (query: string): Promise<number> => {
      const r = await store.reader.query({ query, query_params: { p: PROJECT }, format: 'JSONEachRow' });
      return Number(((await r.json<{ n: string }>())[0] as { n: string }).n);
    };
    expect(await count("SELECT count() AS n FROM traces WHERE project = {p:String} AND state = 'IN_PROGRESS'")).toBeGreaterThan(0);
    expect(await count('SELECT count() - uniqExact(trace_id, span_id) AS n FROM spans WHERE project = {p:String}')).toBeGreaterThan(0);
    expect(await count('SELECT count() - uniqExact(trace_id, version) AS n FROM traces WHERE project = {p:String}')).toBeGreaterThan(0);
    expect(await count('SELECT count() AS n FROM events WHERE project = {p:String}')).toBe(4);
    const orphanRows = `FROM traces WHERE project = {p:String} AND trace_id = '${ORPHAN}'`;
    expect(await count(`SELECT count() AS n ${orphanRows}`)).toBe(2);
    expect(await count(`SELECT count() AS n ${orphanRows} AND version = ${TRACE_ROW_VERSION.root}`)).toBe(0);
  });

  it('getTraceRecord gives the same record as one statement per table, spans deduplicated', async () => {
    let withEvents = 0;
    let withAssessments = 0;
    for (const id of ids) {
      const got = await reader.getTraceRecord(PROJECT, id);
      expect(got).not.toBeNull();
      expect(got).toEqual(await reference.getTraceRecord(PROJECT, id));
      expect(new Set(got?.spans.map((s) => s.spanId)).size).toBe(got?.spans.length);
      if (got?.events.length) withEvents++;
      if (got?.assessments.length) withAssessments++;
    }
    expect(withEvents).toBe(1);
    expect(withAssessments).toBe(3);
    expect(await reader.getTraceRecord(PROJECT, 'f'.repeat(32))).toBeNull();
  });

  it('search pages are the same as deduplicating the window first, for filters, orders and pages', async () => {
    const toNs = BigInt(Date.now() + 60_000) * 1_000_000n;
    // A trace whose placeholder (its earliest child's start) is later than its root row's request time.
    const rs = await store.reader.query({
      query: `SELECT min(request_time_ns) AS root, max(request_time_ns) AS placeholder FROM traces WHERE project = {p:String}
              GROUP BY trace_id HAVING root < placeholder ORDER BY root LIMIT 1`,
      query_params: { p: PROJECT },
      format: 'JSONEachRow',
    });
    const [cut] = await rs.json<{ root: string; placeholder: string }>();
    expect(cut).toBeDefined();
    const windows = [
      { fromNs: toNs - 3_600_000n * 1_000_000n, toNs },
      // Starts between that trace's root row and its placeholder: the window holds the placeholder only.
      { fromNs: BigInt((cut as { root: string }).root) + 1n, toNs },
    ];
    const filters = [
      '',
      "trace.status = 'OK'",
      "trace.status = 'IN_PROGRESS'",
      "feedback.correctness = 'yes'",
      "feedback.correctness = 'no'",
      'feedback.tone IS NULL',
      'expectation.expected IS NOT NULL',
      "tag.env = 'staging'",
      "span.type = 'LLM'",
      "trace.text LIKE '%a%'",
    ];
    let nonEmpty = 0;
    for (const w of windows) {
      for (const filter of filters) {
        const cases: Array<Pick<SearchParams, 'orderBy' | 'maxResults' | 'offset'>> = [
          { orderBy: [], maxResults: 100, offset: 0 },
          { orderBy: [], maxResults: 2, offset: 2 },
          { orderBy: ['execution_time_ms DESC'], maxResults: 3, offset: 0 },
        ];
        for (const c of cases) {
          const p: SearchParams = { project: PROJECT, ...w, filter, ...c };
          const got = await reader.search(p);
          expect(got, JSON.stringify({ filter, c })).toEqual(await reference.search(p));
          if (got.traces.length) nonEmpty++;
        }
      }
    }
    expect(nonEmpty).toBeGreaterThan(15);
    const only = { project: PROJECT, ...(windows[0] as (typeof windows)[0]), filter: '', orderBy: [], maxResults: 100, offset: 0, traceIds: ids.slice(0, 2) };
    expect(await reader.search(only)).toEqual(await reference.search(only));
  }, 240_000);

  it('matches agrees with search for a feedback filter scoped to one trace', async () => {
    for (const id of ids) {
      expect(await reader.matches(PROJECT, id, "feedback.correctness = 'yes'")).toBe(
        (await reference.matches(PROJECT, id, "feedback.correctness = 'yes'")) as boolean,
      );
    }
  });
});
