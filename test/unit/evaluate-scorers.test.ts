import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scorerConfigSchema, evaluatorConfigSchema } from '../../src/evaluate/config.js';
import { Limiter } from '../../src/evaluate/limiter.js';
import { scoreTrace, scorerInput } from '../../src/evaluate/score-trace.js';
import { scorerAssessmentId } from '../../src/evaluate/sampling.js';
import { createCodeScorer } from '../../src/evaluate/scorers/code.js';
import { createCustomScorer } from '../../src/evaluate/scorers/custom.js';
import { createScorers } from '../../src/evaluate/scorers/index.js';
import type { Scorer, ScoreResult } from '../../src/evaluate/scorers/types.js';
import type { Json } from '../../src/model/genai.js';
import type { AssessmentRecord } from '../../src/assessments/model.js';
import type { SpanRecord, TraceRecord } from '../../src/query/records.js';
import { assessmentRecord, spanRecord, START_NS, TRACE_ID, traceRecord, usage } from '../helpers/builders.js';

// ---------------------------------------------------------------- traces built by hand

const ROOT = '00f067aa0ba902b7';

function span(p: Partial<SpanRecord> & Pick<SpanRecord, 'spanId' | 'name' | 'spanType'>): SpanRecord {
  return spanRecord({ parentSpanId: ROOT, startTimeNs: START_NS + 100_000_000n, endTimeNs: START_NS + 900_000_000n, ...p });
}

const EMAIL =
  'Subject: Following up on Monday\'s demo\n\nHi Alice,\n\nAs you said, "the dashboards look great". Pricing for 500+ users follows.\n\nBest regards,\nSam';

interface TraceOpts {
  ms?: number;
  totalTokens?: number;
  outputs?: Json | null;
  children?: SpanRecord[];
  rootStatus?: SpanRecord['status'];
  assessments?: AssessmentRecord[];
}

/** The sales-email agent of the MLflow example: AGENT root with an LLM call, plus whatever `children` says. */
function trace(o: TraceOpts = {}): TraceRecord {
  const inputs: Json = { customer_name: 'Acme Corp', user_instructions: 'Follow up after product demo' };
  const outputs = o.outputs !== undefined ? o.outputs : { email: EMAIL };
  const spans: SpanRecord[] = [
    span({
      spanId: ROOT,
      parentSpanId: '',
      name: 'generate_sales_email',
      spanType: 'AGENT',
      inputs,
      outputs,
      status: o.rootStatus ?? { code: 'OK', message: '' },
    }),
    span({ spanId: 'c8be7c8279313344', name: 'Completions', spanType: 'CHAT_MODEL', model: 'gpt-4o-mini', usage: usage(120, 80, 200) }),
    ...(o.children ?? []),
  ];
  const total = o.totalTokens ?? 200;
  return traceRecord({
    info: {
      project: 'shop',
      executionDurationNs: BigInt(o.ms ?? 1000) * 1_000_000n,
      requestPreview: JSON.stringify(inputs),
      responsePreview: JSON.stringify(outputs),
      serviceName: 'sales-email',
      tokenUsage: { input_tokens: total - 80, output_tokens: 80, total_tokens: total },
      models: ['gpt-4o-mini'],
    },
    spans,
    assessments: o.assessments ?? [],
  });
}

function code(raw: Record<string, unknown>): Scorer {
  const cfg = scorerConfigSchema.parse(raw);
  if (cfg.type === 'custom' || !['latency', 'token_budget', 'error_free', 'output_match', 'valid_json', 'tool_call'].includes(cfg.type)) {
    throw new Error(`not a built-in code scorer: ${cfg.type}`);
  }
  return createCodeScorer(cfg as Parameters<typeof createCodeScorer>[0]);
}

async function one(s: Scorer, t: TraceRecord): Promise<ScoreResult> {
  const results = await s.score(scorerInput(t));
  expect(results).toHaveLength(1);
  return results[0] as ScoreResult;
}

// ---------------------------------------------------------------- built-in code scorers

describe('code scorers', () => {
  it('latency passes at or under max_ms and fails over it, saying by how much', async () => {
    const s = code({ type: 'latency', max_ms: 1000 });
    expect(s).toMatchObject({ name: 'latency', sourceType: 'CODE', sourceId: 'tracehouse:latency' });
    expect(await one(s, trace({ ms: 800 }))).toMatchObject({ value: true });
    expect(await one(s, trace({ ms: 1000 }))).toMatchObject({ value: true });
    expect(await one(s, trace({ ms: 1200 }))).toEqual({ value: false, rationale: 'took 1200 ms; the limit is 1000 ms' });
  });

  it('token_budget compares the trace total with the budget', async () => {
    const s = code({ type: 'token_budget', name: 'email_budget', max_total_tokens: 200 });
    expect(s.name).toBe('email_budget');
    expect((await one(s, trace({ totalTokens: 200 }))).value).toBe(true);
    const over = await one(s, trace({ totalTokens: 4096 }));
    expect(over).toEqual({ value: false, rationale: 'used 4096 tokens; the budget is 200' });
  });

  it('error_free fails when any span ended in error and names it', async () => {
    const s = code({ type: 'error_free' });
    expect(await one(s, trace())).toEqual({ value: true, rationale: 'no span ended in error' });
    const failed = span({
      spanId: '1111111111111111',
      name: 'retrieve_customer_info',
      spanType: 'RETRIEVER',
      status: { code: 'ERROR', message: 'CRM timeout' },
    });
    const r = await one(s, trace({ children: [failed] }));
    expect(r.value).toBe(false);
    expect(r.rationale).toBe('1 span(s) ended in error: retrieve_customer_info (CRM timeout)');
    // UNSET (the OTel default) is not an error.
    const unset = span({ spanId: '2222222222222222', name: 'format', spanType: 'UNKNOWN', status: { code: 'UNSET', message: '' } });
    expect((await one(s, trace({ children: [unset] }))).value).toBe(true);
  });

  it('output_match finds text or a pattern in the output, and negate inverts the verdict', async () => {
    const contains = code({ type: 'output_match', name: 'signed', contains: 'Best regards' });
    expect((await one(contains, trace())).value).toBe(true);
    expect((await one(contains, trace({ outputs: 'Thanks, bye' }))).value).toBe(false);

    const pattern = code({ type: 'output_match', name: 'mentions_pricing', pattern: '500\\+ users' });
    expect(await one(pattern, trace())).toEqual({ value: true, rationale: 'the output contains the pattern /500\\+ users/' });

    const noTickets = code({ type: 'output_match', name: 'no_ticket_numbers', pattern: 'Ticket #\\d+', negate: true });
    expect(await one(noTickets, trace())).toEqual({ value: true, rationale: 'the output does not contain the pattern /Ticket #\\d+/' });
    const leaked = await one(noTickets, trace({ outputs: { email: 'About Ticket #456: fixed.' } }));
    expect(leaked).toEqual({ value: false, rationale: 'the output contains the pattern /Ticket #\\d+/' });
    // No output at all contains nothing.
    expect((await one(contains, trace({ outputs: null }))).value).toBe(false);
    expect((await one(noTickets, trace({ outputs: null }))).value).toBe(true);
  });

  it('output_match sees the text of structured outputs as written, with its quotes and line breaks', async () => {
    // The email is a string inside {"email": …}: a user matches what the email says, not its JSON escaping.
    const signOff = code({ type: 'output_match', name: 'sign_off', contains: 'Best regards,\nSam' });
    expect((await one(signOff, trace())).value).toBe(true);
    const quote = code({ type: 'output_match', name: 'quotes_customer', contains: '"the dashboards look great"' });
    expect((await one(quote, trace())).value).toBe(true);
    const subjectFirst = code({ type: 'output_match', name: 'subject_first', pattern: '^Subject: ' });
    expect((await one(subjectFirst, trace())).value).toBe(true);
    // A forbidden phrase inside a chat reply is caught, not hidden by escaping.
    const noSecrets = code({ type: 'output_match', name: 'no_password', contains: 'password: "', negate: true });
    const chat: Json = [{ role: 'assistant', content: 'Your login is alice and your password: "hunter2"' }];
    expect((await one(noSecrets, trace({ outputs: chat }))).value).toBe(false);
    expect(await one(noSecrets, trace())).toMatchObject({ value: true });
  });

  it('valid_json accepts structured output and JSON text, and rejects prose and a missing output', async () => {
    const s = code({ type: 'valid_json' });
    expect(await one(s, trace())).toEqual({ value: true, rationale: 'the output is structured JSON' });
    expect(await one(s, trace({ outputs: '{"email": "hi"}' }))).toEqual({ value: true, rationale: 'the output parses as JSON' });
    const prose = await one(s, trace({ outputs: 'Dear Alice, thanks!' }));
    expect(prose.value).toBe(false);
    expect(prose.rationale).toMatch(/^the output is not JSON: /);
    expect(await one(s, trace({ outputs: null }))).toEqual({ value: false, rationale: 'the trace has no output' });
  });

  it('tool_call checks that a tool was called (or never called) by its tool name or TOOL span name', async () => {
    const viaTool = span({
      spanId: '3333333333333333',
      name: 'execute_tool lookup_crm',
      spanType: 'TOOL',
      tool: { name: 'lookup_crm', arguments: { customer: 'Acme Corp' }, result: { found: true } },
    });
    const bySpanName = span({ spanId: '4444444444444444', name: 'send_email', spanType: 'TOOL' });
    const called = code({ type: 'tool_call', name: 'looked_up_crm', tool: 'lookup_crm' });
    expect(await one(called, trace({ children: [viaTool] }))).toEqual({
      value: true,
      rationale: 'tool "lookup_crm" was called 1 time(s); expected at least once',
    });
    expect((await one(called, trace())).value).toBe(false);
    const neverSends = code({ type: 'tool_call', name: 'never_sends', tool: 'send_email', called: false });
    expect((await one(neverSends, trace({ children: [viaTool] }))).value).toBe(true);
    expect(await one(neverSends, trace({ children: [bySpanName, viaTool] }))).toEqual({
      value: false,
      rationale: 'tool "send_email" was called 1 time(s); expected never',
    });
  });

  it('rejects an output_match without pattern or contains', () => {
    const r = scorerConfigSchema.safeParse({ type: 'output_match', name: 'x' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('needs `pattern`');
  });
});

// ---------------------------------------------------------------- assessments from scorer results

describe('scoreTrace', () => {
  it('gives the scorer the root inputs, outputs and newest valid expectation per name', async () => {
    const at = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;
    const expectation = (id: string, value: Json, created: bigint, valid = true): AssessmentRecord =>
      assessmentRecord({ assessmentId: id, name: 'expected_facts', kind: 'expectation', value, createdTimeNs: created, valid });
    const t = trace({
      assessments: [
        expectation('a-1', ['old fact'], at('2025-01-01T00:00:00.000Z')),
        expectation('a-2', ['mentions the demo'], at('2025-01-02T00:00:00.000Z')),
        expectation('a-3', ['overridden fact'], at('2025-01-03T00:00:00.000Z'), false),
      ],
    });
    const input = scorerInput(t);
    expect(input.inputs).toEqual({ customer_name: 'Acme Corp', user_instructions: 'Follow up after product demo' });
    expect(input.outputs).toEqual({ email: EMAIL });
    expect(input.expectations).toEqual({ expected_facts: ['mentions the demo'] });

    // Two corrections within one millisecond, a nanosecond apart: the later one is the newest, whatever
    // order the list has.
    const ms = at('2025-01-02T00:00:00.123Z');
    const sameMs = [expectation('a-5', ['second'], ms + 1n), expectation('a-4', ['first'], ms)];
    expect(scorerInput(trace({ assessments: sameMs })).expectations).toEqual({ expected_facts: ['second'] });
    expect(scorerInput(trace({ assessments: [...sameMs].reverse() })).expectations).toEqual({ expected_facts: ['second'] });
  });

  it('writes one assessment per scorer with a stable id, and an error assessment for a scorer that throws', async () => {
    const broken: Scorer = {
      name: 'broken',
      version: '3',
      sourceType: 'CODE',
      sourceId: 'mine',
      score: async () => {
        throw new Error('index out of range');
      },
    };
    const records = await scoreTrace('shop', trace({ ms: 5000 }), [code({ type: 'latency', max_ms: 1000 }), broken], new Limiter(2));
    expect(records.map((r) => [r.name, r.value, r.error])).toEqual([
      ['latency', false, ''],
      ['broken', null, 'scorer failed: index out of range'],
    ]);
    expect(records[0]).toMatchObject({
      project: 'shop',
      traceId: TRACE_ID,
      kind: 'feedback',
      sourceType: 'CODE',
      sourceId: 'tracehouse:latency',
      assessmentId: scorerAssessmentId('shop', TRACE_ID, 'latency', '1'),
      valid: true,
    });
    expect(records[1]?.assessmentId).toBe(scorerAssessmentId('shop', TRACE_ID, 'broken', '3'));
    const again = await scoreTrace('shop', trace({ ms: 5000 }), [code({ type: 'latency', max_ms: 1000 })], new Limiter(1));
    expect(again[0]?.assessmentId).toBe(records[0]?.assessmentId);
  });

  it('runs at most `concurrency` scorers at once', async () => {
    let running = 0;
    let peak = 0;
    const slow = (name: string): Scorer => ({
      name,
      version: '1',
      sourceType: 'CODE',
      sourceId: name,
      score: async () => {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        return [{ value: true, rationale: '' }];
      },
    });
    const records = await scoreTrace(
      'shop',
      trace(),
      Array.from({ length: 9 }, (_, i) => slow(`s${i}`)),
      new Limiter(3),
    );
    expect(records).toHaveLength(9);
    expect(peak).toBe(3);
  });
});

// ---------------------------------------------------------------- custom scorer modules

describe('custom scorers', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tracehouse-scorers-'));
    writeFileSync(
      join(dir, 'email-checks.mjs'),
      [
        '// Word count of the email: a plain value.',
        'export default ({ outputs }) => String(outputs?.email ?? "").split(/\\s+/).filter(Boolean).length;',
        '// A verdict with a rationale, from an async function that reads the whole trace.',
        'export async function mentionsCustomer({ inputs, outputs, trace }) {',
        '  await new Promise((r) => setTimeout(r, 5));',
        '  const name = inputs.customer_name;',
        '  const ok = String(outputs.email).includes("Alice");',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the scorer module's own source text
        '  return { value: ok ? "yes" : "no", rationale: `${trace.spans.length} spans; ${ok ? "greets" : "does not greet"} the contact of ${name}` };',
        '}',
        'export function explodes() { throw new Error("CRM lookup table missing"); }',
        'export function forgetsToReturn() { const x = 1; }',
        'export function returnsNull() { return null; }',
        'export function returnsBigInt() { return 10n; }',
        'export function usesExpectations({ expectations }) { return expectations.expected_facts?.length ?? 0; }',
        'export const notAFunction = 42;',
      ].join('\n'),
    );
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const custom = (raw: Record<string, unknown>) => {
    const cfg = scorerConfigSchema.parse({ type: 'custom', ...raw });
    if (cfg.type !== 'custom') throw new Error('not custom');
    return createCustomScorer(cfg, dir);
  };

  it('loads a module relative to the base directory and records a plain return value', async () => {
    const s = await custom({ module: 'email-checks.mjs', name: 'word_count' });
    expect(s).toMatchObject({ name: 'word_count', sourceType: 'CODE', sourceId: 'email-checks.mjs#default', version: '1' });
    const [r] = await scoreTrace('shop', trace(), [s], new Limiter(1));
    expect(r).toMatchObject({ name: 'word_count', value: 23, rationale: '', error: '' });
  });

  it('records {value, rationale} from a named export, as an LLM judge when configured so', async () => {
    const s = await custom({ module: join(dir, 'email-checks.mjs'), export: 'mentionsCustomer', source_type: 'LLM_JUDGE' });
    expect(s.name).toBe('mentionsCustomer');
    const [r] = await scoreTrace('shop', trace(), [s], new Limiter(1));
    expect(r).toMatchObject({ value: 'yes', rationale: '2 spans; greets the contact of Acme Corp', sourceType: 'LLM_JUDGE', error: '' });
  });

  it('turns a throw into an error assessment instead of a missing one', async () => {
    const s = await custom({ module: 'email-checks.mjs', export: 'explodes', name: 'crm_check' });
    const [r] = await scoreTrace('shop', trace(), [s], new Limiter(1));
    expect(r).toMatchObject({ name: 'crm_check', value: null, error: 'custom scorer threw: CRM lookup table missing' });
  });

  it('turns a return value that is not a JSON value into an error assessment the store and API accept', async () => {
    for (const [exp, message] of [
      ['forgetsToReturn', /returned nothing/],
      ['returnsNull', /returned null/],
      ['returnsBigInt', /not a JSON value/],
    ] as const) {
      const s = await custom({ module: 'email-checks.mjs', export: exp });
      const [r] = await scoreTrace('shop', trace(), [s], new Limiter(1));
      expect(r?.value, exp).toBeNull();
      expect(r?.error, exp).toMatch(message);
      // What the store writes must be plain JSON text.
      expect(() => JSON.stringify(r?.value)).not.toThrow();
    }
  });

  it('passes expectations to the scorer', async () => {
    const s = await custom({ module: 'email-checks.mjs', export: 'usesExpectations', name: 'fact_count' });
    const [r] = await s.score({ ...scorerInput(trace()), expectations: { expected_facts: ['a', 'b', 'c'] } });
    expect(r?.value).toBe(3);
  });

  it('fails at creation, naming the scorer and the path, when the module or export is missing', async () => {
    await expect(custom({ module: 'no-such-file.mjs', name: 'ghost' })).rejects.toThrow(
      new RegExp(`^custom scorer "ghost": cannot load ${join(dir, 'no-such-file.mjs').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `),
    );
    await expect(custom({ module: 'email-checks.mjs', export: 'nope' })).rejects.toThrow(
      `custom scorer "email-checks.mjs": ${join(dir, 'email-checks.mjs')} has no function export "nope"`,
    );
    await expect(custom({ module: 'email-checks.mjs', export: 'notAFunction' })).rejects.toThrow(/has no function export "notAFunction"/);
  });

  it('createScorers stops on the first bad scorer and on two scorers with one name', async () => {
    const cfg = (scorers: unknown[]) => evaluatorConfigSchema.parse({ scorers });
    await expect(createScorers(cfg([{ type: 'error_free' }, { type: 'custom', module: 'missing.mjs' }]), dir)).rejects.toThrow(/cannot load/);
    await expect(
      createScorers(
        cfg([
          { type: 'latency', max_ms: 10 },
          { type: 'latency', max_ms: 20 },
        ]),
        dir,
      ),
    ).rejects.toThrow('two scorers are named "latency": give one a distinct `name`');
    const ok = await createScorers(cfg([{ type: 'latency', max_ms: 10, sample_rate: 0.25, filter: "trace.status = 'OK'" }]), dir);
    expect(ok.map((c) => [c.scorer.name, c.sampleRate, c.filter])).toEqual([['latency', 0.25, "trace.status = 'OK'"]]);
  });

  it('createScorers rejects a scorer filter that does not parse, at start-up', async () => {
    const cfg = evaluatorConfigSchema.parse({ scorers: [{ type: 'error_free', name: 'ok_only', filter: "trace.status = 'OK' AND" }] });
    await expect(createScorers(cfg, dir)).rejects.toThrow(/scorer "ok_only": filter: .*position/);
  });
});
