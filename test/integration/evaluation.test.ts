/**
 * Online evaluation end to end, as in MLflow's "evaluate production traces": the sales-email app's traces
 * arrive over OTLP (OpenInference and MLflow instrumentation), the evaluator scores them with the example's
 * judges (retrieval_groundedness, relevance_to_query, three guidelines) plus code checks, and the verdicts are
 * read back through the API. The judge model is the OpenAI-compatible stub (no model is reachable here).
 */
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSpans } from '../helpers/exporters.js';
import { fixtureSpans, loadFacts } from '../helpers/fixtures.js';
import { getJson, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { startJudgeStub, type ChatBody, type JudgeStub } from '../helpers/judge-stub.js';
import type { AssessmentView, TraceInfoView } from '../../src/api/views.js';
import type { StatsBucketView } from '../../src/api/views.js';

const PROJECT = 'sales';
const DEFAULT_MODEL = 'openai:/gpt-4.1-mini';
const TONE_MODEL = 'openai:/gpt-4o-mini';

const oi = loadFacts('openinference');
const ml = loadFacts('mlflow');
const ALL = [...oi.traces, ...ml.traces];
const ids = ALL.map((f) => f.trace_id).sort();
const ERROR_IDS = ALL.filter((f) => f.state === 'ERROR')
  .map((f) => f.trace_id)
  .sort();
const OK_IDS = ALL.filter((f) => f.state === 'OK')
  .map((f) => f.trace_id)
  .sort();
/** The MLflow-instrumented TechStart trace: its request is made distinguishable, and the judge finds the email off topic. */
const OFF_TOPIC = ml.traces.find((f) => f.customer_name === 'TechStart')!.trace_id;
const OFF_TOPIC_MARK = 'ticket #456 is critical, answer within the hour';
/** The OpenInference Acme Corp demo follow-up: a reviewer recorded the facts it must state before it arrived. */
const WITH_FACTS = oi.traces[0]!.trace_id;
const FACTS = ['Thanks the customer for their time', 'Signs off as the Sales team'];
/** Root spans longer than the latency limit (30 ms): the first trace of each fixture (43–51 ms, the others < 10 ms). */
const SLOW_IDS = [oi.traces[0]!.trace_id, ml.traces[0]!.trace_id].sort();

const GUIDELINES = {
  follows_objective: 'The generated email must follow the objective in the request.',
  concise_communication:
    'The email MUST be concise and to the point. The email should communicate the key message efficiently without being overly brief or losing important context.',
  professional_tone: 'The email must be in a professional tone.',
};
const JUDGES = ['retrieval_groundedness', 'relevance_to_query', 'follows_objective', 'concise_communication', 'professional_tone', 'correctness'];
const EVERY_TRACE = [...JUDGES, 'error_free', 'latency'].sort();
const OK_ONLY = 'ok_only_budget';

const SCORERS = [
  { type: 'retrieval_groundedness' },
  { type: 'relevance_to_query' },
  { type: 'guidelines', name: 'follows_objective', guidelines: GUIDELINES.follows_objective },
  { type: 'guidelines', name: 'concise_communication', guidelines: GUIDELINES.concise_communication },
  { type: 'guidelines', name: 'professional_tone', guidelines: GUIDELINES.professional_tone, model: TONE_MODEL },
  { type: 'correctness' },
  { type: 'error_free' },
  { type: 'latency', max_ms: 30 },
  // Never sampled: must write nothing at all.
  { type: 'valid_json', name: 'never_sampled', sample_rate: 0 },
  // Only traces that succeeded.
  { type: 'token_budget', name: OK_ONLY, max_total_tokens: 1000, filter: "trace.status = 'OK'" },
];

let stub: JudgeStub;
let t: TestApp;
const endpoint = (): { http: string; grpc: string } => ({ http: t.otlpHttp, grpc: t.otlpGrpc });

const systemOf = (body: unknown): string => (body as ChatBody).messages.find((m) => m.role === 'system')?.content ?? '';
const userOf = (body: unknown): string => (body as ChatBody).messages.find((m) => m.role === 'user')?.content ?? '';
const RELEVANCE_JUDGE = 'You are an impartial judge of whether a response is relevant to the request it answers.';
const CORRECTNESS_JUDGE = 'You are an impartial judge of whether a response is correct, compared with the expected answer.';

/** Spans of one trace under another trace id (a different request with the same shape). */
function copyTrace(spans: ReadableSpan[], from: string, to: string): ReadableSpan[] {
  return spans
    .filter((s) => s.spanContext().traceId === from)
    .map((s) => {
      const ctx = { ...s.spanContext(), traceId: to };
      return { ...s, spanContext: () => ctx, parentSpanContext: s.parentSpanContext ? { ...s.parentSpanContext, traceId: to } : undefined };
    });
}

async function assessments(traceId: string, project = PROJECT): Promise<AssessmentView[]> {
  const r = await getJson<{ assessments: AssessmentView[] }>(`${t.api}/api/v1/traces/${traceId}/assessments?project=${project}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.assessments;
}
const feedback = async (traceId: string, project = PROJECT): Promise<AssessmentView[]> =>
  (await assessments(traceId, project)).filter((a) => a.kind === 'feedback');
const byName = (list: AssessmentView[]): Map<string, AssessmentView> => new Map(list.map((a) => [a.name, a]));

/** Polls the API until each trace has `count(traceId)` feedback assessments; bounded. */
async function waitForFeedback(traceIds: string[], count: (id: string) => number, project = PROJECT, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let missing: string[] = [];
  do {
    missing = [];
    for (const id of traceIds) {
      const n = (await feedback(id, project)).length;
      if (n < count(id)) missing.push(`${id}: ${n}/${count(id)}`);
    }
    if (missing.length === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  } while (Date.now() < deadline);
  throw new Error(`assessments still missing after ${timeoutMs} ms: ${missing.join(', ')}`);
}
const expectedCount = (id: string): number => EVERY_TRACE.length + (ERROR_IDS.includes(id) ? 0 : 1);

async function search(filter: string, project = PROJECT): Promise<string[]> {
  const r = await getJson<{ traces: TraceInfoView[] }>(`${t.api}/api/v1/traces?project=${project}&filter=${encodeURIComponent(filter)}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.traces.map((x) => x.trace_id).sort();
}

beforeAll(async () => {
  stub = await startJudgeStub({
    // The judge finds exactly one email off topic: relevance_to_query on the marked TechStart trace.
    rule: (body) => systemOf(body).startsWith(RELEVANCE_JUDGE) && userOf(body).includes(OFF_TOPIC_MARK),
  });
  t = await startTestApp({
    overrides: {
      'evaluator.settle_ms': 300,
      'evaluator.judge.base_url': stub.url,
      'evaluator.judge.api_key': 'test',
      'evaluator.scorers': SCORERS,
    },
  });

  // The reviewer's ground truth is recorded before the trace is even exported.
  const r = await fetch(`${t.api}/api/v1/traces/${WITH_FACTS}/assessments?project=${PROJECT}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'expected_facts', kind: 'expectation', value: FACTS, source: { source_type: 'HUMAN', source_id: 'reviewer' } }),
  });
  expect(r.status).toBe(201);

  const mlSpans = fixtureSpans('mlflow').map((s) => {
    if (s.spanContext().traceId !== OFF_TOPIC || s.parentSpanContext) return s;
    const inputs = { customer_name: 'TechStart', user_instructions: `Check on support ticket status (${OFF_TOPIC_MARK})` };
    return { ...s, attributes: { ...s.attributes, 'mlflow.spanInputs': JSON.stringify(inputs) } };
  });
  expect((await exportSpans('proto', endpoint(), fixtureSpans('openinference'), PROJECT)).code).toBe(0);
  expect((await exportSpans('grpc', endpoint(), mlSpans, PROJECT)).code).toBe(0);
  await waitForFeedback(ids, expectedCount);
});

afterAll(async () => {
  await t?.stop();
  await stub?.close();
  if (t) removeDir(t.dataDir);
});

describe('online evaluation of production traces', () => {
  it('gives every trace one assessment per scorer that sampled it and whose filter it matches', async () => {
    for (const id of ids) {
      const names = (await feedback(id)).map((a) => a.name).sort();
      const expected = ERROR_IDS.includes(id) ? EVERY_TRACE : [...EVERY_TRACE, OK_ONLY].sort();
      expect(names, id).toEqual(expected);
    }
    // sample_rate 0 writes nothing, the filtered scorer skipped the failed traces.
    expect(await search('feedback.never_sampled IS NOT NULL')).toEqual([]);
    expect(await search(`feedback.${OK_ONLY} IS NOT NULL`)).toEqual(OK_IDS);
  });

  it('records the judges\u2019 yes/no verdicts with rationale, the model as source and the judge\u2019s token usage', async () => {
    for (const id of OK_IDS) {
      const a = byName(await feedback(id));
      for (const name of JUDGES.filter((n) => n !== 'correctness')) {
        const v = a.get(name)!;
        const want = name === 'relevance_to_query' && id === OFF_TOPIC ? 'no' : 'yes';
        expect(v, `${name} on ${id}`).toMatchObject({ value: want, error: null, valid: true });
        expect(v.rationale).toMatch(/\(stub\)$/);
        expect(v.source).toEqual({ source_type: 'LLM_JUDGE', source_id: name === 'professional_tone' ? TONE_MODEL : DEFAULT_MODEL });
        expect(v.metadata.judge_model).toBe(v.source.source_id);
        expect(Number(v.metadata.judge_input_tokens)).toBeGreaterThan(50);
        expect(Number(v.metadata.judge_output_tokens)).toBeGreaterThan(0);
        expect(Number(v.metadata.judge_latency_ms)).toBeGreaterThanOrEqual(0);
        // Both models have a list price, so the cost of the verdict is known.
        expect(Number(v.metadata.judge_cost_usd)).toBeGreaterThan(0);
      }
      // Groundedness says what it was grounded in: the three CRM documents of the retriever span.
      expect(a.get('retrieval_groundedness')!.metadata).toMatchObject({ documents: '3', retriever_spans: '1' });
    }
    // Exactly one "no" in the whole project, where the stub's rule put it.
    expect(await search("feedback.relevance_to_query = 'no'")).toEqual([OFF_TOPIC]);
    expect(await search("feedback.relevance_to_query = 'yes'")).toEqual(OK_IDS.filter((id) => id !== OFF_TOPIC));
  });

  it('asks the judges about the configured guidelines and the trace\u2019s own request and response', () => {
    const prompts = stub.calls.map((c) => userOf(c.body));
    for (const text of Object.values(GUIDELINES)) {
      // Once per trace with a response to judge (the failed traces have none).
      expect(prompts.filter((p) => p.includes(`<guidelines>\n1. ${text}\n</guidelines>`)).length).toBe(OK_IDS.length);
    }
    const offTopic = prompts.filter((p) => p.includes(OFF_TOPIC_MARK));
    expect(offTopic.length).toBeGreaterThanOrEqual(4);
    expect(offTopic.every((p) => p.includes('customer_name: TechStart'))).toBe(true);
    expect(stub.calls.every((c) => c.status === 200)).toBe(true);
    expect(new Set(stub.calls.map((c) => c.model))).toEqual(new Set(['gpt-4.1-mini', 'gpt-4o-mini']));
  });

  it('records the code checks as CODE: the failed traces are not error free, the slow ones over the latency limit', async () => {
    for (const id of ids) {
      const a = byName(await feedback(id));
      const errorFree = a.get('error_free')!;
      expect(errorFree.source).toEqual({ source_type: 'CODE', source_id: 'tracehouse:error_free' });
      expect(errorFree.value, id).toBe(!ERROR_IDS.includes(id));
      if (ERROR_IDS.includes(id)) expect(errorFree.rationale).toContain('500 The model is overloaded');
      expect(a.get('latency')!.value, id).toBe(!SLOW_IDS.includes(id));
      expect(a.get('latency')!.source.source_type).toBe('CODE');
    }
    expect(await search("feedback.error_free = 'false'")).toEqual(ERROR_IDS);
    expect(await search("feedback.latency = 'false'")).toEqual(SLOW_IDS);
  });

  it('writes an error assessment, not a gap, when a judge has nothing to judge', async () => {
    for (const id of ERROR_IDS) {
      const a = byName(await feedback(id));
      for (const name of ['relevance_to_query', 'follows_objective', 'concise_communication', 'professional_tone', 'retrieval_groundedness']) {
        const v = a.get(name)!;
        expect(v.value, `${name} on ${id}`).toBeNull();
        expect(v.error, `${name} on ${id}`).toMatch(/no response to judge|no RETRIEVER span/);
        expect(v.source.source_type).toBe('LLM_JUDGE');
      }
    }
  });

  it('judges correctness against the expected facts recorded on the trace, and says which expectation is missing elsewhere', async () => {
    const judged = byName(await feedback(WITH_FACTS)).get('correctness')!;
    expect(judged).toMatchObject({ value: 'yes', error: null, source: { source_type: 'LLM_JUDGE', source_id: DEFAULT_MODEL } });
    const asked = stub.calls.filter((c) => systemOf(c.body).startsWith(CORRECTNESS_JUDGE)).map((c) => userOf(c.body));
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain(`<expected_facts>\n- ${FACTS[0]}\n- ${FACTS[1]}\n</expected_facts>`);
    expect(asked[0]).toContain('Thank you for your time');

    const other = byName(await feedback(OK_IDS.find((id) => id !== WITH_FACTS)!)).get('correctness')!;
    expect(other.value).toBeNull();
    expect(other.error).toContain('"expected_facts"');
    expect(other.error).toContain('"expected_response"');
    // The expectation itself is untouched and still searchable.
    expect(await search('expectation.expected_facts IS NOT NULL')).toEqual([WITH_FACTS]);
  });

  it('reports pass rates per scorer through GET /api/v1/assessments', async () => {
    const r = await getJson<{ buckets: StatsBucketView[] }>(
      `${t.api}/api/v1/assessments?project=${PROJECT}&name=relevance_to_query&name=error_free&name=correctness&name=never_sampled&bucket=1d`,
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const sum = (name: string): { count: number; pass: number; fail: number; errors: number } =>
      r.body.buckets
        .filter((b) => b.name === name)
        .reduce((s, b) => ({ count: s.count + b.count, pass: s.pass + b.pass, fail: s.fail + b.fail, errors: s.errors + b.errors }), {
          count: 0,
          pass: 0,
          fail: 0,
          errors: 0,
        });
    expect(sum('relevance_to_query')).toEqual({ count: 10, pass: 7, fail: 1, errors: 2 });
    expect(sum('error_free')).toEqual({ count: 10, pass: 8, fail: 2, errors: 0 });
    expect(sum('correctness')).toEqual({ count: 10, pass: 1, fail: 0, errors: 9 });
    expect(sum('never_sampled').count).toBe(0);
    for (const b of r.body.buckets) expect(b.pass_rate).toBeCloseTo(b.pass / (b.pass + b.fail), 10);
    if (r.body.buckets.filter((b) => b.name === 'relevance_to_query').length === 1) {
      expect(r.body.buckets.find((b) => b.name === 'relevance_to_query')!.pass_rate).toBeCloseTo(7 / 8, 10);
      expect(r.body.buckets.find((b) => b.name === 'error_free')!.pass_rate).toBeCloseTo(0.8, 10);
    }
  });

  it('exposes the evaluator\u2019s work on /metrics', async () => {
    const text = await (await fetch(`${t.api}/metrics`)).text();
    const value = (line: RegExp): number => Number(text.match(line)?.[1] ?? NaN);
    expect(value(/^tracehouse_evaluator_traces_scored_total (\d+)/m)).toBeGreaterThanOrEqual(ids.length);
    expect(value(/^tracehouse_evaluator_assessments_total\{scorer="error_free",outcome="ok"\} (\d+)/m)).toBeGreaterThanOrEqual(ids.length);
    expect(value(/^tracehouse_judge_tokens_total\{model="openai:\/gpt-4.1-mini",direction="input"\} (\d+)/m)).toBeGreaterThan(0);
    expect(text).toMatch(/^tracehouse_evaluator_lag_seconds \d/m);
  });

  it('does not score a trace again when late or re-sent spans arrive after it was scored', async () => {
    const before = new Map<string, AssessmentView[]>();
    for (const id of ids) before.set(id, await feedback(id));
    const calls = stub.calls.length;
    const lateBefore = t.app.evaluator!.assembler.lateSpans;

    // The exporter re-sends a whole trace (a retry), and a span that ended late joins another one.
    expect((await exportSpans('json', endpoint(), fixtureSpans('openinference'), PROJECT)).code).toBe(0);
    const late = fixtureSpans('mlflow').find((s) => s.spanContext().traceId === ml.traces[1]!.trace_id && s.parentSpanContext)!;
    const lateCtx = { ...late.spanContext(), spanId: 'feedfacecafebeef' };
    expect((await exportSpans('proto', endpoint(), [{ ...late, name: 'late_cleanup', spanContext: () => lateCtx }], PROJECT)).code).toBe(0);
    expect(t.app.evaluator!.assembler.lateSpans).toBeGreaterThan(lateBefore);

    // Well past settle_ms and the evaluator's tick: a second scoring would have happened by now.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(stub.calls.length).toBe(calls);
    for (const id of ids) {
      const now = await feedback(id);
      expect(now.map((a) => [a.assessment_id, a.last_update_time]).sort(), id).toEqual(
        before
          .get(id)!
          .map((a) => [a.assessment_id, a.last_update_time])
          .sort(),
      );
    }
    // The late span itself is stored; only the scoring is not repeated.
    const detail = await getJson<{ spans: Array<{ name: string }> }>(`${t.api}/api/v1/traces/${ml.traces[1]!.trace_id}?project=${PROJECT}`);
    expect(detail.body.spans.map((s) => s.name)).toContain('late_cleanup');
  });

  it('scores a trace promptly even when the exporter delivered its spans twice before it settled', async () => {
    // An exporter retry duplicates every span of a request; the store keeps each span once.
    const source = ml.traces[2]!.trace_id;
    const copy = '0123456789abcdef0123456789abcdef';
    const spans = copyTrace(fixtureSpans('mlflow'), source, copy);
    const sent = Date.now();
    expect((await exportSpans('proto', endpoint(), spans, 'retries')).code).toBe(0);
    expect((await exportSpans('proto', endpoint(), spans, 'retries')).code).toBe(0);
    await waitForFeedback([copy], () => EVERY_TRACE.length + 1, 'retries', 15_000);
    expect(Date.now() - sent).toBeLessThan(15_000);
    const a = byName(await feedback(copy, 'retries'));
    expect(a.get('relevance_to_query')?.value).toBe('yes');
    // Other project, other assessments: the ids are per project.
    const original = byName(await feedback(source));
    expect(a.get('error_free')!.assessment_id).not.toBe(original.get('error_free')!.assessment_id);
  });
});
