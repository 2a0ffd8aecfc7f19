import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureSpans, loadFacts } from '../helpers/fixtures.js';
import { exportSpans } from '../helpers/exporters.js';
import { getJson, startTestApp, type TestApp } from '../helpers/app.js';
import type { AssessmentView, TraceDetailView, TraceInfoView } from '../../src/api/views.js';

let t: TestApp;
const facts = loadFacts('openinference');
const [t1, t2, t3] = facts.traces.map((f) => f.trace_id) as [string, string, string];

beforeAll(async () => {
  t = await startTestApp();
  expect((await exportSpans('proto', { http: t.otlpHttp, grpc: t.otlpGrpc }, fixtureSpans('openinference'), 'fb')).code).toBe(0);
});
afterAll(async () => {
  await t?.stop();
});

const url = (path: string, project = 'fb'): string => `${t.api}${path}${path.includes('?') ? '&' : '?'}project=${project}`;
async function send(method: string, path: string, body?: unknown, project = 'fb'): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url(path, project), {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const create = async (traceId: string, body: unknown): Promise<AssessmentView> => {
  const r = await send('POST', `/api/v1/traces/${traceId}/assessments`, body);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.assessment as AssessmentView;
};
const search = async (filter: string): Promise<string[]> => {
  const r = await getJson<{ traces: TraceInfoView[] }>(url(`/api/v1/traces?filter=${encodeURIComponent(filter)}`));
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.traces.map((x) => x.trace_id).sort();
};

describe('assessments API', () => {
  it('creates feedback and expectations with MLflow defaults for the source', async () => {
    const fb = await create(t1, { name: 'user_satisfaction', value: true, rationale: 'thumbs up' });
    expect(fb.assessment_id).toMatch(/^a-[0-9a-f]{32}$/);
    expect(fb).toMatchObject({ trace_id: t1, kind: 'feedback', value: true, valid: true, source: { source_type: 'CODE', source_id: 'default' } });
    const ex = await create(t1, { name: 'expected_facts', kind: 'expectation', value: ['mentions the demo', 'signed by Sales'] });
    expect(ex.source.source_type).toBe('HUMAN');
    const human = await create(t1, {
      name: 'tone',
      value: 'professional',
      source: { source_type: 'HUMAN', source_id: 'reviewer@example.com' },
      metadata: { queue: 'q1' },
      span_id: '0123456789abcdef',
    });
    expect(human).toMatchObject({
      source: { source_type: 'HUMAN', source_id: 'reviewer@example.com' },
      metadata: { queue: 'q1' },
      span_id: '0123456789abcdef',
    });

    const list = await send('GET', `/api/v1/traces/${t1}/assessments`);
    expect((list.body.assessments as AssessmentView[]).map((a) => a.name).sort()).toEqual(['expected_facts', 'tone', 'user_satisfaction']);
    const detail = (await getJson<TraceDetailView>(url(`/api/v1/traces/${t1}`))).body;
    expect(detail.assessments.map((a) => a.assessment_id)).toContain(fb.assessment_id);
    expect(detail.info.assessments).toMatchObject({ user_satisfaction: true, tone: 'professional' });
  });

  it('edits keep the history of who said what when', async () => {
    const a = await create(t2, { name: 'relevance', value: 'yes', rationale: 'first look' });
    const patched = await send('PATCH', `/api/v1/traces/${t2}/assessments/${a.assessment_id}`, { rationale: 'second look', value: 'no' });
    expect(patched.status).toBe(200);
    expect(patched.body.assessment).toMatchObject({ rationale: 'second look', value: 'no', create_time: a.create_time });
    const h = await send('GET', `/api/v1/traces/${t2}/assessments/${a.assessment_id}?history=true`);
    expect((h.body.history as AssessmentView[]).map((v) => [v.value, v.rationale])).toEqual([
      ['yes', 'first look'],
      ['no', 'second look'],
    ]);
    expect(await search("feedback.relevance = 'no'")).toEqual([t2]);
  });

  it('override writes a new feedback pointing at the old one and invalidates the old one', async () => {
    const judge = await create(t3, { name: 'correct', value: false, source: { source_type: 'LLM_JUDGE', source_id: 'openai:/gpt-4.1-mini' } });
    expect(await search("feedback.correct = 'false'")).toContain(t3);
    const o = await send('POST', `/api/v1/traces/${t3}/assessments/${judge.assessment_id}/override`, {
      value: true,
      rationale: 'judge was wrong',
      source: { source_type: 'HUMAN', source_id: 'expert' },
    });
    expect(o.status).toBe(201);
    const replacement = o.body.assessment as AssessmentView;
    expect(replacement).toMatchObject({ overrides: judge.assessment_id, value: true, valid: true, name: 'correct' });
    const old = await send('GET', `/api/v1/traces/${t3}/assessments/${judge.assessment_id}`);
    expect((old.body.assessment as AssessmentView).valid).toBe(false);
    expect(await search("feedback.correct = 'true'")).toEqual([t3]);
    expect(await search("feedback.correct = 'false'")).not.toContain(t3);
  });

  it('delete hides an assessment and later reads answer 404', async () => {
    const a = await create(t3, { name: 'temporary', value: 1 });
    expect((await send('DELETE', `/api/v1/traces/${t3}/assessments/${a.assessment_id}`)).status).toBe(200);
    expect((await send('GET', `/api/v1/traces/${t3}/assessments/${a.assessment_id}`)).status).toBe(404);
    expect((await send('PATCH', `/api/v1/traces/${t3}/assessments/${a.assessment_id}`, { rationale: 'x' })).status).toBe(404);
    expect((await send('DELETE', `/api/v1/traces/${t3}/assessments/${a.assessment_id}`)).status).toBe(404);
    const list = await send('GET', `/api/v1/traces/${t3}/assessments`);
    expect((list.body.assessments as AssessmentView[]).map((x) => x.name)).not.toContain('temporary');
    expect(await search('feedback.temporary IS NOT NULL')).toEqual([]);
  });

  it('accepts feedback before its trace arrives and attaches it when the trace appears', async () => {
    const spans = fixtureSpans('mlflow');
    const early = loadFacts('mlflow').traces[0]!.trace_id;
    await create(early, { name: 'thumbs', value: 'up', source: { source_type: 'HUMAN', source_id: 'end-user-42' } });
    expect(await search("feedback.thumbs = 'up'")).toEqual([]);
    expect((await exportSpans('json', { http: t.otlpHttp, grpc: t.otlpGrpc }, spans, 'fb')).code).toBe(0);
    expect(await search("feedback.thumbs = 'up'")).toEqual([early]);
  });

  it('filters on expectations and numeric feedback', async () => {
    await create(t2, { name: 'score', value: 0.25 });
    await create(t1, { name: 'score', value: 0.9 });
    expect(await search('feedback.score > 0.5')).toEqual([t1]);
    expect(await search('expectation.expected_facts IS NOT NULL')).toEqual([t1]);
    expect(await search("trace.status = 'OK' AND feedback.score <= 0.25")).toEqual([t2]);
  });

  it('keeps every entry of concurrent feedback on one trace', async () => {
    const posts = Array.from({ length: 25 }, (_, i) =>
      create(t2, { name: 'vote', value: i % 2 === 0, source: { source_type: 'HUMAN', source_id: `user-${i}` } }),
    );
    const created = await Promise.all(posts);
    expect(new Set(created.map((a) => a.assessment_id)).size).toBe(25);
    const list = await send('GET', `/api/v1/traces/${t2}/assessments`);
    const votes = (list.body.assessments as AssessmentView[]).filter((a) => a.name === 'vote');
    expect(votes.map((a) => a.source.source_id).sort()).toEqual(created.map((a) => a.source.source_id).sort());
  });
});

describe('assessment validation', () => {
  const cases: Array<[string, unknown, number, RegExp]> = [
    ['unknown source type', { name: 'x', value: 1, source: { source_type: 'ROBOT' } }, 400, /source\.source_type: must be one of HUMAN, CODE, LLM_JUDGE/],
    ['empty name', { name: '  ', value: 1 }, 400, /name: must not be empty/],
    ['missing value', { name: 'x' }, 400, /value/],
    ['null value', { name: 'x', value: null }, 400, /value: must not be null/],
    ['unknown kind', { name: 'x', value: 1, kind: 'opinion' }, 400, /kind: must be one of feedback, expectation/],
    ['unknown field', { name: 'x', value: 1, colour: 'red' }, 400, /unknown parameter\(s\): colour/],
    ['oversize value', { name: 'x', value: 'y'.repeat(70_000) }, 400, /value: must be at most 65536 bytes/],
    ['bad span id', { name: 'x', value: 1, span_id: 'xyz' }, 400, /span_id/],
    ['not JSON', '{"name": ', 400, /not valid JSON/],
    ['oversize body', { name: 'x', value: 'y'.repeat(1_100_000) }, 413, /over the limit/],
  ];
  it.each(cases)('%s → %i', async (_what, body, status, message) => {
    const before = await send('GET', `/api/v1/traces/${t3}/assessments`);
    const r = await send('POST', `/api/v1/traces/${t3}/assessments`, body);
    expect(r.status).toBe(status);
    expect((r.body.error as { message: string }).message).toMatch(message);
    const after = await send('GET', `/api/v1/traces/${t3}/assessments`);
    expect((after.body.assessments as unknown[]).length).toBe((before.body.assessments as unknown[]).length);
  });

  it('answers 400 for a malformed trace id and 404 for an unknown assessment id', async () => {
    expect((await send('POST', '/api/v1/traces/not-a-trace/assessments', { name: 'x', value: 1 })).status).toBe(400);
    const r = await send('GET', `/api/v1/traces/${t1}/assessments/a-doesnotexist`);
    expect(r.status).toBe(404);
    expect((r.body.error as { code: string }).code).toBe('NOT_FOUND');
  });
});
