/**
 * Online evaluation when the judge misbehaves (hangs, rate-limits, answers in prose or in nonsense) and when
 * the scorer configuration is wrong. Each failure mode sends the same trace to its own project, so each
 * leaves its own assessments; the judge is the OpenAI-compatible stub, switched between modes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSpans } from '../helpers/exporters.js';
import { fixtureSpans, loadFacts } from '../helpers/fixtures.js';
import { getJson, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { startJudgeStub, type ChatBody, type JudgeStub, type StubMode } from '../helpers/judge-stub.js';
import type { AssessmentView } from '../../src/api/views.js';
import type { StatsBucketView } from '../../src/api/views.js';

/** One chDB data directory per process: the app that fails to start and the one that runs share it. */
const dataDir = mkdtempSync(join(tmpdir(), 'tracehouse-eval-failures-'));
const TRACE = loadFacts('openinference').traces[0]!.trace_id;
const JUDGES = ['relevance_to_query', 'professional_tone'];
const NAMES = [...JUDGES, 'error_free'].sort();
const TIMEOUT_MS = 300;

let stub: JudgeStub;
let t: TestApp | undefined;

beforeAll(async () => {
  stub = await startJudgeStub();
});
afterAll(async () => {
  await t?.stop();
  await stub?.close();
  removeDir(dataDir);
});

const systemOf = (body: unknown): string => (body as ChatBody).messages.find((m) => m.role === 'system')?.content ?? '';

describe('scorer configuration mistakes', () => {
  const start = (scorers: unknown[]): Promise<TestApp> =>
    startTestApp({ dataDir, overrides: { 'evaluator.judge.base_url': stub.url, 'evaluator.judge.api_key': 'test', 'evaluator.scorers': scorers } });

  it('a scorer filter that does not parse stops start-up, naming the scorer and the position', async () => {
    await expect(start([{ type: 'error_free', name: 'ok_only', filter: "trace.status = 'OK' AND" }])).rejects.toThrow(
      /^scorer "ok_only": filter: at position 23: expected a filter key/,
    );
  });

  it('a custom scorer module that does not exist stops start-up, naming the module', async () => {
    await expect(start([{ type: 'custom', name: 'house_style', module: join(dataDir, 'missing.mjs') }])).rejects.toThrow(
      `custom scorer "house_style": cannot load ${join(dataDir, 'missing.mjs')}`,
    );
  });
});

describe('judge failures', () => {
  beforeAll(async () => {
    t = await startTestApp({
      dataDir,
      overrides: {
        'evaluator.settle_ms': 300,
        'evaluator.judge.base_url': stub.url,
        'evaluator.judge.api_key': 'test',
        'evaluator.judge.timeout_ms': TIMEOUT_MS,
        'evaluator.judge.max_retries': 1,
        'evaluator.scorers': [
          { type: 'relevance_to_query' },
          { type: 'guidelines', name: 'professional_tone', guidelines: 'The email must be in a professional tone.' },
          { type: 'error_free' },
        ],
      },
    });
  });

  /** Sends the trace to `project` with the stub in `mode`; resolves with its assessments by name and the judge calls made. */
  async function scoreWith(mode: StubMode, project: string): Promise<{ a: Map<string, AssessmentView>; calls: typeof stub.calls }> {
    stub.setMode(mode);
    const from = stub.calls.length;
    const spans = fixtureSpans('openinference').filter((s) => s.spanContext().traceId === TRACE);
    expect((await exportSpans('proto', { http: t!.otlpHttp, grpc: t!.otlpGrpc }, spans, project)).code).toBe(0);
    const deadline = Date.now() + 20_000;
    let list: AssessmentView[] = [];
    while (Date.now() < deadline) {
      list = (await getJson<{ assessments: AssessmentView[] }>(`${t!.api}/api/v1/traces/${TRACE}/assessments?project=${project}`)).body.assessments;
      if (list.length >= NAMES.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(list.map((x) => x.name).sort()).toEqual(NAMES);
    stub.setMode('normal');
    return { a: new Map(list.map((x) => [x.name, x])), calls: stub.calls.slice(from) };
  }

  it('a judge that never answers leaves an error assessment per judge, after its retries, not a gap', async () => {
    const started = Date.now();
    const { a, calls } = await scoreWith('timeout', 'timeouts');
    for (const name of JUDGES) {
      const v = a.get(name)!;
      expect(v.value, name).toBeNull();
      expect(v.error, name).toBe(`judge openai:/gpt-4.1-mini failed after 2 tries: timed out after ${TIMEOUT_MS} ms`);
      expect(v.source).toEqual({ source_type: 'LLM_JUDGE', source_id: 'openai:/gpt-4.1-mini' });
      // Marked as worth re-scoring later, unlike a judge that answered nonsense.
      expect(v.metadata.judge_retryable).toBe('true');
    }
    // max_retries 1: two tries per judge, and nothing more.
    expect(calls).toHaveLength(2 * JUDGES.length);
    // The code check does not depend on the judge.
    expect(a.get('error_free')).toMatchObject({ value: true, error: null });
    // Bounded: two timeouts plus one backoff, not the 30 s default.
    expect(Date.now() - started).toBeLessThan(10_000);

    const stats = await getJson<{ buckets: StatsBucketView[] }>(`${t!.api}/api/v1/assessments?project=timeouts&name=relevance_to_query&bucket=366d`);
    const errors = stats.body.buckets.reduce((n, b) => n + b.errors, 0);
    expect(errors).toBe(1);
  });

  it('a judge that answers 429 with Retry-After is waited for, and then gives a normal verdict', async () => {
    const { a, calls } = await scoreWith({ mode: 'rate-limit', count: 1, headers: { 'retry-after': '1' } }, 'rate-limited');
    for (const name of JUDGES) expect(a.get(name), name).toMatchObject({ value: 'yes', error: null });
    const limited = calls.find((c) => c.status === 429)!;
    expect(limited).toBeDefined();
    const retried = calls.find((c) => c !== limited && systemOf(c.body) === systemOf(limited.body))!;
    expect(retried.status).toBe(200);
    // Retry-After: 1 was honoured.
    expect(retried.at - limited.at).toBeGreaterThanOrEqual(990);
    expect(calls).toHaveLength(JUDGES.length + 1);
  });

  it('a judge that answers in prose instead of JSON still yields its verdict', async () => {
    const { a } = await scoreWith('malformed', 'prose');
    for (const name of JUDGES) {
      const v = a.get(name)!;
      expect(v, name).toMatchObject({ value: 'yes', error: null });
      expect(v.rationale).toMatch(/^Sure! The answer is yes because/);
      expect(Number(v.metadata.judge_input_tokens)).toBeGreaterThan(0);
    }
  });

  it('a judge reply with no verdict in it becomes an error assessment that keeps the reply and its cost', async () => {
    const { a, calls } = await scoreWith('garbage', 'garbage');
    for (const name of JUDGES) {
      const v = a.get(name)!;
      expect(v.value, name).toBeNull();
      expect(v.error).toBe('judge openai:/gpt-4.1-mini: judge reply has no yes/no verdict: "Hmm, hard to say. Let me tell you about the weather instead."');
      // Not retried (the same prompt would get the same answer), but the tokens were spent and are recorded.
      expect(v.metadata.judge_retryable).toBe('false');
      expect(Number(v.metadata.judge_output_tokens)).toBeGreaterThan(0);
    }
    expect(calls).toHaveLength(JUDGES.length);
  });

  it('recovers: with the judge back to normal, the same trace in a new project gets verdicts', async () => {
    const { a } = await scoreWith('normal', 'recovered');
    for (const name of JUDGES) expect(a.get(name), name).toMatchObject({ value: 'yes', error: null });
  });
});
