import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { judgeConfigSchema, scorerConfigSchema, type JudgeConfig, type JudgeScorerConfig } from '../../src/evaluate/config.js';
import { JudgeClient, JudgeError } from '../../src/evaluate/judge/client.js';
import { retryAfterFromHeaders } from '../../src/evaluate/judge/retry.js';
import { createJudgeScorer } from '../../src/evaluate/scorers/judges.js';
import type { ScoreResult, ScorerInput } from '../../src/evaluate/scorers/types.js';
import type { Json, RetrievedDocument } from '../../src/model/genai.js';
import type { SpanRecord, TraceRecord } from '../../src/query/records.js';
import { startJudgeStub, type ChatBody, type JudgeStub } from '../helpers/judge-stub.js';
import { spanRecord as span, START_NS, traceRecord, usage } from '../helpers/builders.js';

// ---------------------------------------------------------------- traces built by hand

type Doc = RetrievedDocument;
const doc = (id: string, content: string): Doc => ({ id, content, score: null, uri: null });

const ACME_DOCS: Doc[] = [
  doc(
    'Acme Corp_meeting',
    'Recent meeting: Product demo on Monday, very interested in enterprise features. They asked about: advanced analytics, real-time dashboards, API integrations, custom reporting, multi-user support, SSO authentication, data export capabilities, and pricing for 500+ users',
  ),
  doc(
    'Acme Corp_tickets',
    'Support tickets: Ticket #123: API latency issue (resolved last week), Ticket #124: Feature request for bulk import, Ticket #125: Question about GDPR compliance',
  ),
  doc('Acme Corp_contact', 'Contact: Alice Chen'),
];

const GOOD_EMAIL =
  "Subject: Following up on Monday's demo\n\nHi Alice,\n\nThank you for joining the product demo on Monday. As you asked, our enterprise plan covers advanced analytics, real-time dashboards and SSO. I will send pricing for 500+ users this week.\n\nBest regards,\nSam";

interface SalesTraceOpts {
  email?: string;
  instructions?: string;
  /** Documents per retriever span; [] for a trace without a retriever. */
  retrievers?: Doc[][];
  outputs?: Json | null;
  inputs?: Json | null;
}

/** The sales-email app of the MLflow example: AGENT root → RETRIEVER (CRM documents) → LLM. */
function salesTrace(o: SalesTraceOpts = {}): TraceRecord {
  const inputs: Json | null =
    o.inputs !== undefined ? o.inputs : { customer_name: 'Acme Corp', user_instructions: o.instructions ?? 'Follow up after product demo' };
  const outputs: Json | null = o.outputs !== undefined ? o.outputs : { email: o.email ?? GOOD_EMAIL };
  const retrievers = (o.retrievers ?? [ACME_DOCS]).map((docs, i) =>
    span({
      spanId: `b7ad6b716920333${i}`,
      parentSpanId: '00f067aa0ba902b7',
      name: 'retrieve_customer_info',
      spanType: 'RETRIEVER',
      startTimeNs: START_NS + 100_000_000n + BigInt(i),
      inputs: { customer_name: 'Acme Corp' },
      documents: docs,
    }),
  );
  const spans: SpanRecord[] = [
    span({ spanId: '00f067aa0ba902b7', name: 'generate_sales_email', spanType: 'AGENT', inputs, outputs }),
    ...retrievers,
    span({
      spanId: 'c8be7c8279313344',
      parentSpanId: '00f067aa0ba902b7',
      name: 'Completions',
      spanType: 'CHAT_MODEL',
      startTimeNs: START_NS + 200_000_000n,
      model: 'gpt-4o-mini',
      provider: 'openai',
      inputs: [{ role: 'user', content: 'You are a sales representative…' }],
      outputs: [{ role: 'assistant', content: o.email ?? GOOD_EMAIL }],
      usage: usage(120, 80, 200),
    }),
  ];
  return traceRecord({
    info: {
      requestPreview: JSON.stringify(inputs),
      responsePreview: JSON.stringify(outputs),
      serviceName: 'sales-email',
      tokenUsage: { input_tokens: 120, output_tokens: 80, total_tokens: 200 },
      models: ['gpt-4o-mini'],
    },
    spans,
  });
}

function scorerInput(trace: TraceRecord, expectations: Record<string, Json> = {}): ScorerInput {
  const root = trace.spans.find((s) => s.parentSpanId === '');
  return { inputs: root?.inputs ?? null, outputs: root?.outputs ?? null, expectations, trace };
}

function judgeCfg(raw: Record<string, unknown>): JudgeScorerConfig {
  const c = scorerConfigSchema.parse(raw);
  if (
    c.type === 'latency' ||
    c.type === 'token_budget' ||
    c.type === 'error_free' ||
    c.type === 'output_match' ||
    c.type === 'valid_json' ||
    c.type === 'tool_call' ||
    c.type === 'custom'
  ) {
    throw new Error(`not a judge: ${c.type}`);
  }
  return c;
}

// ---------------------------------------------------------------- stub and client

let stub: JudgeStub;
const MODEL = 'openai:/gpt-4.1-mini';

function client(over: Partial<JudgeConfig> = {}, env: Record<string, string | undefined> = {}): JudgeClient {
  const cfg = judgeConfigSchema.parse({ base_url: stub.url, api_key: 'sk-test', timeout_ms: 2_000, max_retries: 2, rpm_per_model: 0, ...over });
  return new JudgeClient(cfg, { env, backoff: { baseMs: 20, maxMs: 100 } });
}

async function run(raw: Record<string, unknown>, input: ScorerInput, c = client()): Promise<ScoreResult[]> {
  return createJudgeScorer(judgeCfg(raw), c, MODEL).score(input);
}

/** The user message of a recorded call. */
function userMessage(i: number): string {
  const body = stub.calls[i]?.body as ChatBody | undefined;
  return body?.messages.find((m) => m.role === 'user')?.content ?? '';
}

beforeAll(async () => {
  stub = await startJudgeStub();
});
afterEach(() => {
  stub.setMode('normal');
  stub.calls.length = 0;
});
afterAll(async () => {
  await stub.close();
});

// ---------------------------------------------------------------- the judges

describe('built-in judges', () => {
  it('guidelines: yes when the email follows the guideline, no when it does not; named after the guideline', async () => {
    const cfg = { type: 'guidelines', name: 'professional_tone', guidelines: 'The email must be in a professional tone.' };
    const scorer = createJudgeScorer(judgeCfg(cfg), client(), MODEL);
    expect(scorer).toMatchObject({ name: 'professional_tone', version: '1', sourceType: 'LLM_JUDGE', sourceId: MODEL });

    const [yes] = await scorer.score(scorerInput(salesTrace()));
    expect(yes).toMatchObject({ value: 'yes' });
    expect(yes?.rationale).toContain('follows the given guidelines');
    expect(yes?.error).toBeUndefined();
    const prompt = userMessage(0);
    expect(prompt).toContain('1. The email must be in a professional tone.');
    // Inputs that are not a chat read as `key: value` lines, the email as the text it is.
    expect(prompt).toContain('customer_name: Acme Corp\nuser_instructions: Follow up after product demo');
    expect(prompt).toContain('Hi Alice,\n\nThank you');

    const [no] = await scorer.score(scorerInput(salesTrace({ email: 'yo alice, buy our stuff lol JUDGE:NO' })));
    expect(no).toMatchObject({ value: 'no' });

    const [unnamed] = await run({ type: 'guidelines', guidelines: ['Be concise.', 'Mention the demo.'] }, scorerInput(salesTrace()));
    expect(unnamed?.value).toBe('yes');
    expect(userMessage(2)).toContain('1. Be concise.\n2. Mention the demo.');
    expect(createJudgeScorer(judgeCfg({ type: 'guidelines', guidelines: 'x' }), client(), MODEL).name).toBe('guidelines');
  });

  it('relevance_to_query: yes and no', async () => {
    const [yes] = await run({ type: 'relevance_to_query' }, scorerInput(salesTrace()));
    expect(yes).toMatchObject({ value: 'yes' });
    expect(yes?.rationale).toContain('relevant to the request');
    const [no] = await run({ type: 'relevance_to_query' }, scorerInput(salesTrace({ email: 'Here is a cake recipe. JUDGE:NO' })));
    expect(no).toMatchObject({ value: 'no' });
  });

  it('reads the human text out of chat-shaped inputs and outputs', async () => {
    const trace = salesTrace({
      inputs: {
        messages: [
          { role: 'system', content: 'You are a support bot.' },
          { role: 'user', content: 'What is the refund window?' },
        ],
      },
      outputs: { choices: [{ index: 0, message: { role: 'assistant', content: 'Refunds are accepted within 30 days.' } }] },
    });
    await run({ type: 'relevance_to_query' }, scorerInput(trace));
    const prompt = userMessage(0);
    expect(prompt).toContain('<request>\nWhat is the refund window?\n</request>');
    expect(prompt).toContain('<response>\nRefunds are accepted within 30 days.\n</response>');
    expect(prompt).not.toContain('support bot');

    // OTel GenAI parts, a multi-turn conversation.
    stub.calls.length = 0;
    const otel = salesTrace({
      inputs: [
        { role: 'user', parts: [{ type: 'text', content: 'Hi' }] },
        { role: 'assistant', parts: [{ type: 'text', content: 'Hello! How can I help?' }] },
        { role: 'user', parts: [{ type: 'text', content: 'Cancel my order' }] },
      ],
      outputs: [{ role: 'assistant', parts: [{ type: 'text', content: 'Your order is cancelled.' }] }],
    });
    await run({ type: 'relevance_to_query' }, scorerInput(otel));
    expect(userMessage(0)).toContain('user: Hi\n\nassistant: Hello! How can I help?\n\nuser: Cancel my order');
    expect(userMessage(0)).toContain('<response>\nYour order is cancelled.\n</response>');
  });

  it('retrieval_groundedness: judges the response against all retrieved documents; error without a retriever', async () => {
    const [yes] = await run({ type: 'retrieval_groundedness' }, scorerInput(salesTrace()));
    expect(yes).toMatchObject({ value: 'yes', metadata: { documents: '3', retriever_spans: '1' } });
    const prompt = userMessage(0);
    expect(prompt).toContain('<document index="1" id="Acme Corp_meeting">');
    expect(prompt).toContain('Contact: Alice Chen');

    const [no] = await run({ type: 'retrieval_groundedness' }, scorerInput(salesTrace({ email: 'Hi Alice, your 90% discount is approved. JUDGE:NO' })));
    expect(no?.value).toBe('no');

    const calls = stub.calls.length;
    const [missing] = await run({ type: 'retrieval_groundedness' }, scorerInput(salesTrace({ retrievers: [] })));
    expect(missing).toMatchObject({ value: null });
    expect(missing?.error).toMatch(/no RETRIEVER span/);
    expect(missing?.usage).toBeUndefined();
    expect(stub.calls.length).toBe(calls);
  });

  it('retrieval_relevance: one result per retriever span, yes when at least one document is relevant', async () => {
    const irrelevant = [doc('weather', 'JUDGE:NO Sunny in Lisbon'), doc('menu', 'JUDGE:NO Soup of the day: leek')];
    const mixed = [ACME_DOCS[0]!, doc('lunch', 'JUDGE:NO Cafeteria menu'), ACME_DOCS[2]!];
    const trace = salesTrace({ retrievers: [mixed, irrelevant, []] });
    const results = await run({ type: 'retrieval_relevance' }, scorerInput(trace));
    expect(results).toHaveLength(3);
    const [first, second, third] = results;
    expect(first).toMatchObject({
      value: 'yes',
      spanId: 'b7ad6b7169203330',
      key: 'b7ad6b7169203330',
      metadata: { documents: '3', relevant_documents: '2', relevant_fraction: '0.6667', document_verdicts: 'yes,no,yes' },
    });
    expect(first?.usage?.input_tokens).toBeGreaterThan(0);
    expect(second).toMatchObject({ value: 'no', spanId: 'b7ad6b7169203331', metadata: { relevant_documents: '0', relevant_fraction: '0.0000' } });
    // An empty retrieval is "no" without asking the judge.
    expect(third).toMatchObject({ value: 'no', spanId: 'b7ad6b7169203332', metadata: { documents: '0' } });
    expect(third?.usage).toBeUndefined();
    expect(stub.calls).toHaveLength(2);
    // Structured output asked for per-document verdicts.
    expect(JSON.stringify((stub.calls[0]!.body as ChatBody).response_format)).toContain('"verdicts"');

    const [none] = await run({ type: 'retrieval_relevance' }, scorerInput(salesTrace({ retrievers: [] })));
    expect(none?.error).toMatch(/no RETRIEVER span/);
  });

  it('retrieval_sufficiency: needs expectations; yes/no against expected facts', async () => {
    const [missing] = await run({ type: 'retrieval_sufficiency' }, scorerInput(salesTrace()));
    expect(missing).toMatchObject({ value: null });
    expect(missing?.error).toMatch(/expected_facts.*expected_response/);
    expect(stub.calls).toHaveLength(0);

    const facts = { expected_facts: ['Alice Chen is the contact', 'The demo was on Monday'] };
    const [yes] = await run({ type: 'retrieval_sufficiency' }, scorerInput(salesTrace(), facts));
    expect(yes?.value).toBe('yes');
    expect(userMessage(0)).toContain('<expected_facts>\n- Alice Chen is the contact\n- The demo was on Monday\n</expected_facts>');

    const [no] = await run({ type: 'retrieval_sufficiency' }, scorerInput(salesTrace(), { expected_facts: ['The renewal date is JUDGE:NO'] }));
    expect(no?.value).toBe('no');

    const [noRetriever] = await run({ type: 'retrieval_sufficiency' }, scorerInput(salesTrace({ retrievers: [] }), facts));
    expect(noRetriever?.error).toMatch(/no RETRIEVER span/);
  });

  it('correctness: expected_facts or expected_response; error without either', async () => {
    const [missing] = await run({ type: 'correctness' }, scorerInput(salesTrace(), { unrelated: 'x' }));
    expect(missing?.value).toBeNull();
    expect(missing?.error).toMatch(/correctness needs an expectation.*"expected_facts".*"expected_response"/);

    const [yes] = await run({ type: 'correctness' }, scorerInput(salesTrace(), { expected_facts: ['mentions the Monday demo'] }));
    expect(yes?.value).toBe('yes');
    const [no] = await run({ type: 'correctness' }, scorerInput(salesTrace(), { expected_response: 'The demo was on Tuesday. JUDGE:NO' }));
    expect(no?.value).toBe('no');
    expect(userMessage(1)).toContain('<expected_response>\nThe demo was on Tuesday. JUDGE:NO\n</expected_response>');
  });

  it('safety: yes and no, with a rule function on the request body', async () => {
    const ruled = await startJudgeStub({ rule: (b: ChatBody) => b.messages.some((m) => m.content.includes('napalm')) });
    try {
      const c = new JudgeClient(judgeConfigSchema.parse({ base_url: ruled.url, api_key: 'k', rpm_per_model: 0 }), { env: {} });
      const [yes] = await run({ type: 'safety' }, scorerInput(salesTrace()), c);
      expect(yes?.value).toBe('yes');
      expect(yes?.rationale).toContain('free of harmful content');
      const [no] = await run({ type: 'safety' }, scorerInput(salesTrace({ email: 'Here is how to make napalm at home…' })), c);
      expect(no?.value).toBe('no');
      // Safety judges the response alone.
      expect((ruled.calls[0]!.body as ChatBody).messages[1]?.content).not.toContain('<request>');
    } finally {
      await ruled.close();
    }
  });

  it('a trace without a response is an error result, not a verdict on nothing', async () => {
    const [r] = await run({ type: 'relevance_to_query' }, scorerInput(salesTrace({ outputs: null })));
    expect(r?.value).toBeNull();
    expect(r?.error).toMatch(/no response/);
  });

  it('cuts very large parts and says so in the prompt and the metadata', async () => {
    const [r] = await run({ type: 'safety' }, scorerInput(salesTrace({ email: 'a'.repeat(50_000) })));
    expect(r?.value).toBe('yes');
    expect(r?.metadata).toMatchObject({ judge_input_truncated: 'true' });
    const prompt = userMessage(0);
    expect(prompt).toMatch(/^Note: parts longer than 20000 characters were cut/);
    expect(prompt).toContain('[… 30007 more characters cut]'); // 50 000 + "email: " − 20 000
    expect(prompt.length).toBeLessThan(21_000);
  });

  it('rejects an unsupported provider when the scorer is created', () => {
    expect(() => createJudgeScorer(judgeCfg({ type: 'safety', model: 'anthropic:/claude-sonnet-4' }), client(), MODEL)).toThrow(
      /provider "anthropic" is not supported; supported: openai/,
    );
    expect(() => createJudgeScorer(judgeCfg({ type: 'safety' }), client(), 'gpt-4.1-mini')).toThrow(/must look like "openai:\/gpt-4.1-mini"/);
  });
});

// ---------------------------------------------------------------- the client

describe('judge client', () => {
  it('sends the model name after ":/", temperature 0 and a JSON schema response format', async () => {
    await client().judge({ model: MODEL, system: 'S', user: 'U' });
    const body = stub.calls[0]?.body as Record<string, unknown>;
    expect(body.model).toBe('gpt-4.1-mini');
    expect(body.temperature).toBe(0);
    expect(body.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: { strict: true, schema: { properties: { result: { enum: ['yes', 'no'] }, rationale: { type: 'string' } } } },
    });
  });

  it('needs a key unless a base URL is set; reads both from the environment', async () => {
    const cfg = judgeConfigSchema.parse({});
    expect(() => new JudgeClient(cfg, { env: {} })).toThrow(/no API key.*OPENAI_API_KEY/);
    expect(() => new JudgeClient(cfg, { env: { OPENAI_API_KEY: 'sk-x' } })).not.toThrow();
    const fromEnv = new JudgeClient(cfg, { env: { OPENAI_BASE_URL: stub.url } });
    const j = await fromEnv.judge({ model: MODEL, system: 'S', user: 'U' });
    expect(j.result).toBe('yes');
    await expect(fromEnv.judge({ model: 'vertex:/gemini', system: 'S', user: 'U' })).rejects.toThrow(/provider "vertex" is not supported/);
  });

  it('retries a 429 after the Retry-After seconds', async () => {
    stub.setMode({ mode: 'rate-limit', count: 1 });
    const [r] = await run({ type: 'relevance_to_query' }, scorerInput(salesTrace()));
    expect(r?.value).toBe('yes');
    expect(stub.calls.map((c) => c.status)).toEqual([429, 200]);
    const waited = stub.calls[1]!.at - stub.calls[0]!.at;
    expect(waited).toBeGreaterThanOrEqual(990);
    expect(waited).toBeLessThan(1_600);
  });

  it('honours retry-after-ms too', async () => {
    stub.setMode({ mode: 'rate-limit', count: 1, headers: { 'retry-after-ms': '400' } });
    await client().judge({ model: MODEL, system: 'S', user: 'U' });
    const waited = stub.calls[1]!.at - stub.calls[0]!.at;
    expect(waited).toBeGreaterThanOrEqual(390);
    expect(waited).toBeLessThan(900);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2025-08-01T12:00:00Z');
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': '2' }), now)).toBe(2_000);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': '0.5' }), now)).toBe(500);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': 'Fri, 01 Aug 2025 12:00:03 GMT' }), now)).toBe(3_000);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': 'Fri, 01 Aug 2025 11:00:00 GMT' }), now)).toBe(0);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now)).toBe(250);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterFromHeaders(new Headers(), now)).toBeUndefined();
  });

  it('gives up at once when Retry-After is longer than it is willing to wait, and on an exhausted quota', async () => {
    stub.setMode({ mode: 'rate-limit', count: 1, headers: { 'retry-after': '3600' } });
    const err = await client()
      .judge({ model: MODEL, system: 'S', user: 'U' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JudgeError);
    expect((err as JudgeError).message).toMatch(/HTTP 429.*retry after 3600 s/);
    expect((err as JudgeError).retryable).toBe(true);

    stub.calls.length = 0;
    stub.setMode({ mode: 'rate-limit', count: 5, code: 'insufficient_quota', headers: {} });
    const quota = await client()
      .judge({ model: MODEL, system: 'S', user: 'U' })
      .catch((e: unknown) => e);
    expect((quota as JudgeError).retryable).toBe(false);
    expect(stub.calls).toHaveLength(1);
  });

  it('retries 5xx then succeeds', async () => {
    stub.setMode({ mode: 'server-error', count: 2, status: 503 });
    const [r] = await run({ type: 'safety' }, scorerInput(salesTrace()));
    expect(r?.value).toBe('yes');
    expect(stub.calls.map((c) => c.status)).toEqual([503, 503, 200]);
  });

  it('returns an error result naming the last failure when 5xx outlasts the retries', async () => {
    stub.setMode({ mode: 'server-error', count: 10 });
    const [r] = await run({ type: 'safety' }, scorerInput(salesTrace()), client({ max_retries: 1 }));
    expect(r).toMatchObject({ value: null });
    expect(r?.error).toMatch(/failed after 2 tries: HTTP 500: .*server had an error/);
    expect(stub.calls).toHaveLength(2);
  });

  it('turns a timeout into an error result after max_retries', async () => {
    stub.setMode('timeout');
    const started = Date.now();
    const [r] = await run({ type: 'relevance_to_query' }, scorerInput(salesTrace()), client({ timeout_ms: 200, max_retries: 2 }));
    expect(r).toMatchObject({ value: null });
    expect(r?.error).toBe('judge openai:/gpt-4.1-mini failed after 3 tries: timed out after 200 ms');
    expect(r?.metadata).toEqual({ judge_retryable: 'true' });
    expect(r?.usage).toBeUndefined();
    expect(stub.calls).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  });

  it('does not retry other 4xx', async () => {
    stub.setMode({ mode: 'bad-request', count: 5, message: 'context_length_exceeded (stub)' });
    const err = await client()
      .judge({ model: MODEL, system: 'S', user: 'U' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JudgeError);
    expect((err as JudgeError).retryable).toBe(false);
    expect((err as JudgeError).status).toBe(400);
    expect((err as JudgeError).message).toMatch(/failed on its only try: HTTP 400: .*context_length_exceeded/);
    expect(stub.calls).toHaveLength(1);
  });

  it('drops a parameter the model rejects (temperature on reasoning models) and asks again', async () => {
    stub.setMode({ mode: 'bad-request', count: 1, param: 'temperature', message: "Unsupported value: 'temperature' does not support 0 with this model." });
    const c = client();
    const j = await c.judge({ model: 'openai:/o4-mini', system: 'S', user: 'U' });
    expect(j.result).toBe('yes');
    expect(stub.calls.map((x) => x.status)).toEqual([400, 200]);
    expect((stub.calls[1]!.body as Record<string, unknown>).temperature).toBeUndefined();
    // Remembered for the model.
    await c.judge({ model: 'openai:/o4-mini', system: 'S', user: 'U' });
    expect(stub.calls).toHaveLength(3);
    expect((stub.calls[2]!.body as Record<string, unknown>).temperature).toBeUndefined();
  });

  it('parses a prose reply leniently', async () => {
    stub.setMode('malformed');
    const [yes] = await run({ type: 'relevance_to_query' }, scorerInput(salesTrace()));
    expect(yes).toMatchObject({ value: 'yes' });
    expect(yes?.rationale).toMatch(/^Sure! The answer is yes because/);
    const [no] = await run({ type: 'relevance_to_query' }, scorerInput(salesTrace({ email: 'JUDGE:NO' })));
    expect(no?.value).toBe('no');
  });

  it('turns a reply with no verdict into an error result that still records the usage', async () => {
    stub.setMode('garbage');
    const [r] = await run({ type: 'relevance_to_query' }, scorerInput(salesTrace()));
    expect(r?.value).toBeNull();
    expect(r?.error).toMatch(/no yes\/no verdict: "Hmm, hard to say/);
    expect(r?.usage?.output_tokens).toBeGreaterThan(0);
    expect(r?.metadata).toEqual({ judge_retryable: 'false' });
    expect(stub.calls).toHaveLength(1);
  });

  it('spaces calls per model with the RPM limiter', async () => {
    // 120 rpm: a bucket of 2, then one call every 500 ms.
    const c = client({ rpm_per_model: 120 });
    const req = (model: string) => c.judge({ model, system: 'S', user: 'U' });
    await Promise.all([req(MODEL), req(MODEL), req(MODEL), req(MODEL), req('openai:/gpt-4o-mini')]);
    const a = stub.calls.filter((x) => x.model === 'gpt-4.1-mini').map((x) => x.at);
    const b = stub.calls.filter((x) => x.model === 'gpt-4o-mini').map((x) => x.at);
    const t0 = Math.min(...a);
    expect(a).toHaveLength(4);
    expect(a[1]! - t0).toBeLessThan(150);
    expect(a[2]! - t0).toBeGreaterThanOrEqual(450);
    expect(a[3]! - t0).toBeGreaterThanOrEqual(950);
    expect(a[3]! - t0).toBeLessThan(1_400);
    // Another model has its own bucket.
    expect(b[0]! - t0).toBeLessThan(150);
  });

  it('records tokens, latency and cost from configured or built-in prices', async () => {
    stub.setMode({ mode: 'delay', ms: 200 });
    const configured = await client({ prices: { 'gpt-4.1-mini': { input_per_million: 1, output_per_million: 2 } } }).judge({
      model: MODEL,
      system: 'S',
      user: 'U'.repeat(400),
    });
    const u = configured.usage;
    expect(u.model).toBe(MODEL);
    expect(u.input_tokens).toBe(Math.ceil(401 / 4));
    expect(u.output_tokens).toBeGreaterThan(0);
    expect(u.latency_ms).toBeGreaterThanOrEqual(190);
    expect(u.cost_usd).toBeCloseTo((u.input_tokens * 1 + u.output_tokens * 2) / 1e6, 12);

    stub.setMode('normal');
    const builtin = await client().judge({ model: MODEL, system: 'S', user: 'U' });
    expect(builtin.usage.cost_usd).toBeCloseTo((builtin.usage.input_tokens * 0.4 + builtin.usage.output_tokens * 1.6) / 1e6, 12);
    const unknown = await client().judge({ model: 'openai:/my-finetune', system: 'S', user: 'U' });
    expect(unknown.usage.cost_usd).toBeNull();

    const [r] = await run({ type: 'safety' }, scorerInput(salesTrace()));
    expect(r?.usage).toMatchObject({ model: MODEL, cost_usd: expect.any(Number) as number });
  });

  it('rejects with the abort reason instead of producing a result', async () => {
    stub.setMode('timeout');
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(new Error('shutting down')), 100);
    const scorer = createJudgeScorer(judgeCfg({ type: 'safety' }), client(), MODEL);
    await expect(scorer.score(scorerInput(salesTrace()), ctl.signal)).rejects.toThrow('shutting down');

    // Also while waiting out a Retry-After.
    stub.setMode({ mode: 'rate-limit', count: 1, headers: { 'retry-after': '5' } });
    const ctl2 = new AbortController();
    setTimeout(() => ctl2.abort(new Error('shutting down again')), 100);
    await expect(scorer.score(scorerInput(salesTrace()), ctl2.signal)).rejects.toThrow('shutting down again');
  });
});

// ---------------------------------------------------------------- reply parsing
