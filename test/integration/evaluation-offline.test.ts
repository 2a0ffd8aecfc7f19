/**
 * Offline evaluation, MLflow's `mlflow.genai.evaluate(data=traces, scorers=…)` on traces already stored: the
 * built `tracehouse evaluate` command, run as a user would against a running tracehouse that has no scorers
 * of its own, searches the traces, scores them and writes the assessments through the API.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { exportSpans } from '../helpers/exporters.js';
import { fixtureSpans, loadFacts } from '../helpers/fixtures.js';
import { getJson, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { startJudgeStub, type ChatBody, type JudgeStub } from '../helpers/judge-stub.js';
import { scorerAssessmentId } from '../../src/evaluate/sampling.js';
import type { AssessmentView, TraceInfoView } from '../../src/api/views.js';

const BIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const PROJECT = 'history';
const ALL = [...loadFacts('openinference').traces, ...loadFacts('mlflow').traces];
const OK_IDS = ALL.filter((f) => f.state === 'OK')
  .map((f) => f.trace_id)
  .sort();
const ERROR_IDS = ALL.filter((f) => f.state === 'ERROR').map((f) => f.trace_id);
const ACME_IDS = ALL.filter((f) => f.state === 'OK' && f.customer_name === 'Acme Corp')
  .map((f) => f.trace_id)
  .sort();
const RELEVANCE_JUDGE = 'You are an impartial judge of whether a response is relevant to the request it answers.';

let t: TestApp;
let stub: JudgeStub;
let dir = '';
let scorersFile = '';

/** Runs the built CLI without blocking this process (the API it talks to runs here). */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OPENAI_API_KEY: '', OPENAI_BASE_URL: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
const evaluate = (): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  cli(['evaluate', '--scorers', scorersFile, '--filter', "trace.status = 'OK'", '--project', PROJECT, '--api-url', t.api]);

async function feedback(traceId: string): Promise<AssessmentView[]> {
  const r = await getJson<{ assessments: AssessmentView[] }>(`${t.api}/api/v1/traces/${traceId}/assessments?project=${PROJECT}`);
  return r.body.assessments.filter((a) => a.kind === 'feedback');
}

/** The summary table's rows by scorer: [assessed, pass, fail, pass rate, errors]. */
function table(stdout: string): Map<string, string[]> {
  const lines = stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^SCORER\s+ASSESSED\s+PASS\s+FAIL\s+PASS RATE\s+ERRORS$/);
  return new Map(
    lines.slice(1).map((l) => {
      const [name, ...cells] = l.trim().split(/\s{2,}/);
      return [name as string, cells];
    }),
  );
}

beforeAll(async () => {
  stub = await startJudgeStub({
    // Two emails (Global Retail, in both fixtures) are judged off topic.
    rule: (body: ChatBody) => (body.messages[0]?.content ?? '').startsWith(RELEVANCE_JUDGE) && (body.messages[1]?.content ?? '').includes('Global Retail'),
  });
  // A running tracehouse with no scorers configured: nothing scores traces online.
  t = await startTestApp();
  expect((await exportSpans('proto', { http: t.otlpHttp, grpc: t.otlpGrpc }, fixtureSpans('openinference'), PROJECT)).code).toBe(0);
  expect((await exportSpans('json', { http: t.otlpHttp, grpc: t.otlpGrpc }, fixtureSpans('mlflow'), PROJECT)).code).toBe(0);

  dir = mkdtempSync(join(tmpdir(), 'tracehouse-offline-'));
  writeFileSync(
    join(dir, 'word-count.mjs'),
    [
      'export default ({ outputs }) => String(outputs?.email ?? "").split(/\\s+/).filter(Boolean).length;',
      '// A scorer with a bug: it forgets to return. Its assessments record that instead of aborting the run.',
      'export function forgetful({ outputs }) { const n = String(outputs).length; }',
    ].join('\n'),
  );
  scorersFile = join(dir, 'scorers.yaml');
  writeFileSync(
    scorersFile,
    stringify({
      judge: { base_url: stub.url, api_key: 'test', max_retries: 1 },
      scorers: [
        { type: 'relevance_to_query' },
        { type: 'guidelines', name: 'professional_tone', guidelines: 'The email must be in a professional tone.' },
        { type: 'error_free' },
        { type: 'latency', max_ms: 30 },
        // Relative to the scorers file, not to the working directory.
        { type: 'custom', name: 'word_count', module: './word-count.mjs' },
        { type: 'custom', name: 'forgetful', module: './word-count.mjs', export: 'forgetful' },
        // A scorer's own filter narrows the command's --filter further.
        { type: 'token_budget', name: 'acme_budget', max_total_tokens: 1000, filter: "trace.text = 'Acme Corp'" },
      ],
    }),
  );
});

afterAll(async () => {
  await t?.stop();
  await stub?.close();
  if (t) removeDir(t.dataDir);
  if (dir) removeDir(dir);
});

describe('tracehouse evaluate', () => {
  const firstIds = new Map<string, string[]>();

  it('scores the traces the search finds and prints a summary per scorer', async () => {
    const r = await evaluate();
    expect(r.code, r.stderr).toBe(0);
    const rows = table(r.stdout);
    expect([...rows.keys()]).toEqual(['relevance_to_query', 'professional_tone', 'error_free', 'latency', 'word_count', 'forgetful', 'acme_budget']);
    expect(rows.get('relevance_to_query')).toEqual(['8', '6', '2', '75.0%', '0']);
    expect(rows.get('professional_tone')).toEqual(['8', '8', '0', '100.0%', '0']);
    expect(rows.get('error_free')).toEqual(['8', '8', '0', '100.0%', '0']);
    // The first trace of each fixture takes 43–51 ms, the others < 10 ms.
    expect(rows.get('latency')).toEqual(['8', '6', '2', '75.0%', '0']);
    // Numbers are neither pass nor fail.
    expect(rows.get('word_count')).toEqual(['8', '0', '0', '-', '0']);
    expect(rows.get('acme_budget')).toEqual(['4', '4', '0', '100.0%', '0']);
    expect(rows.get('forgetful')).toEqual(['8', '0', '0', '-', '8']);

    expect(r.stderr).toContain('scoring 8 trace(s) with relevance_to_query, professional_tone, error_free, latency, word_count, forgetful, acme_budget');
    // Progress with a rate, ending complete.
    expect(r.stderr).toMatch(/evaluate \[#{30}\] 8\/8 {2}\d+(\.\d)?\/s {2}ETA 0s/);
  });

  it('writes assessments visible through the API, with the ids the online evaluator would use', async () => {
    for (const id of OK_IDS) {
      const list = await feedback(id);
      const names = list.map((a) => a.name).sort();
      const want = [
        'error_free',
        'forgetful',
        'latency',
        'professional_tone',
        'relevance_to_query',
        'word_count',
        ...(ACME_IDS.includes(id) ? ['acme_budget'] : []),
      ].sort();
      expect(names, id).toEqual(want);
      for (const a of list) expect(a.assessment_id).toBe(scorerAssessmentId(PROJECT, id, a.name, '1'));
      const byName = new Map(list.map((a) => [a.name, a]));
      expect(byName.get('relevance_to_query')).toMatchObject({ source: { source_type: 'LLM_JUDGE', source_id: 'openai:/gpt-4.1-mini' }, error: null });
      expect(Number(byName.get('relevance_to_query')!.metadata.judge_input_tokens)).toBeGreaterThan(0);
      expect(byName.get('word_count')).toMatchObject({ value: 25, source: { source_type: 'CODE' } });
      expect(byName.get('forgetful')).toMatchObject({ value: null, error: expect.stringContaining('returned nothing') });
      firstIds.set(id, list.map((a) => a.assessment_id).sort());
    }
    // --filter kept the failed traces out.
    for (const id of ERROR_IDS) expect(await feedback(id)).toEqual([]);
    const r = await getJson<{ traces: TraceInfoView[] }>(
      `${t.api}/api/v1/traces?project=${PROJECT}&filter=${encodeURIComponent("feedback.relevance_to_query = 'no'")}`,
    );
    expect(r.body.traces.map((x) => x.trace_id).sort()).toEqual(
      ALL.filter((f) => f.customer_name === 'Global Retail')
        .map((f) => f.trace_id)
        .sort(),
    );
  });

  it('a second run rewrites the same assessments instead of adding more', async () => {
    const before = new Map<string, AssessmentView[]>();
    for (const id of OK_IDS) before.set(id, await feedback(id));
    const r = await evaluate();
    expect(r.code, r.stderr).toBe(0);
    for (const id of OK_IDS) {
      const list = await feedback(id);
      expect(list.map((a) => a.assessment_id).sort(), id).toEqual(firstIds.get(id));
      const old = new Map(before.get(id)!.map((a) => [a.assessment_id, a]));
      for (const a of list) {
        // Rewritten (a new version), created when first written.
        expect(a.create_time).toBe(old.get(a.assessment_id)!.create_time);
        expect(a.last_update_time > old.get(a.assessment_id)!.last_update_time).toBe(true);
      }
    }
    const one = scorerAssessmentId(PROJECT, OK_IDS[0]!, 'relevance_to_query', '1');
    const h = await getJson<{ history: AssessmentView[] }>(`${t.api}/api/v1/traces/${OK_IDS[0]}/assessments/${one}?project=${PROJECT}&history=true`);
    expect(h.body.history).toHaveLength(2);
  });

  it('fails with a clear message when the scorers file is wrong', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, stringify({ scorers: [{ type: 'latency' }] }));
    const r = await cli(['evaluate', '--scorers', bad, '--project', PROJECT, '--api-url', t.api]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/scorers\.0\.max_ms/);
    const missing = await cli(['evaluate', '--project', PROJECT, '--api-url', t.api]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('tracehouse evaluate: --scorers is required (see "tracehouse evaluate --help")\n');
  });
});
