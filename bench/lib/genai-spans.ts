/**
 * Deterministic generator of GenAI traces for the benchmarks.
 *
 * Each trace is what an OTel-GenAI-instrumented RAG agent emits: a root `invoke_agent` span, a `retrieval`
 * span with three documents, and a `chat` span whose input/output messages carry varied prompt and
 * completion text. Everything comes from one seeded PRNG, so two processes given the same options produce
 * byte-identical spans (the ingest benchmark relies on this to rebuild the server's rows in its ceiling
 * process). Spans are SDK `ReadableSpan`s, serialized into OTLP protobuf with the official
 * `ProtobufTraceSerializer`, i.e. exactly what `@opentelemetry/exporter-trace-otlp-proto` sends.
 */
import type { Attributes, HrTime, SpanContext } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

// ---------------------------------------------------------------------------------------------
// PRNG
// ---------------------------------------------------------------------------------------------

/** mulberry32: tiny, fast, good enough for test data, and identical on every platform. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hiInclusive: number): number {
    return lo + Math.floor(this.next() * (hiInclusive - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)] as T;
  }
  /** Picks by weight; `weights` parallel to `xs`. */
  weighted<T>(xs: readonly T[], cumulative: readonly number[]): T {
    const r = this.next() * (cumulative[cumulative.length - 1] as number);
    let i = 0;
    while ((cumulative[i] as number) <= r) i++;
    return xs[i] as T;
  }
  hex(chars: number): string {
    let s = '';
    while (s.length < chars) s += ((this.next() * 4294967296) >>> 0).toString(16).padStart(8, '0');
    return s.slice(0, chars);
  }
}

const cumulate = (ws: readonly number[]): number[] => {
  let acc = 0;
  return ws.map((w) => (acc += w));
};

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

// Frequent words first: sentences draw from a Zipf distribution over this list, which gives text about
// as compressible as real prose (uniform random words or random letters would not).
const WORDS = `the of and to a in is that for it on with as you this be are or your we can have by not from
at an will if our please account order customer team support plan data product service time any all new
more about when which their they also has was been would there one what how should access update
payment invoice billing subscription renewal contract enterprise pricing discount trial upgrade
downgrade feature request issue ticket error latency outage incident report dashboard integration api
key token limit quota usage workspace project user admin role permission policy security compliance
audit export import migration backup restore region cluster deployment release version patch
configuration setting webhook notification email message meeting follow call demo onboarding training
documentation guide step first next last week month quarter year today yesterday monday tuesday
wednesday thursday friday morning afternoon summary review feedback priority critical high medium low
open closed resolved pending escalated assigned owner manager engineer analyst director executive
contact phone address company organization department finance legal procurement operations sales
marketing engineering product research partner vendor reseller distributor channel market segment
region europe america asia pacific revenue cost budget forecast target growth churn retention
satisfaction score survey response rate average median total number percent increase decrease
change improve reduce resolve investigate confirm verify check schedule send share provide include
explain describe recommend suggest consider ensure require need want like help thank appreciate
happy sorry unfortunately currently recently already still only just also however therefore because
although while since until after before during within between across through into over under about
note record history log trace span model prompt completion response answer question context document
source reference link attachment file folder page section table chart graph metric alert threshold
monitor performance availability reliability scalability capacity storage memory network database
query index cache queue worker job task pipeline workflow agent tool function call result output input
value field column row record schema format json csv report analysis insight trend pattern anomaly
customer's team's company's we'll you'll it's don't can't won't let's here's that's there's`
  .split(/\s+/)
  .filter(Boolean);

const ZIPF = cumulate(WORDS.map((_, i) => 1 / (i + 2)));

const FIRST = ['Alex', 'Maria', 'Chen', 'Priya', 'Jonas', 'Fatima', 'Diego', 'Yuki', 'Olivia', 'Samuel', 'Amara', 'Lukas', 'Sofia', 'Omar', 'Hannah', 'Ravi'];
const LAST = [
  'Johnson',
  'Garcia',
  'Nguyen',
  'Patel',
  'Schmidt',
  'Haddad',
  'Lopez',
  'Tanaka',
  'Brown',
  'Okafor',
  'Rossi',
  'Kowalski',
  'Silva',
  'Khan',
  'Müller',
  'Dubois',
];
const COMPANIES = [
  'Acme Corp',
  'TechStart',
  'Global Retail',
  'Northwind',
  'Contoso',
  'Initech',
  'Umbrella Health',
  'Stark Logistics',
  'Wayne Finance',
  'Globex',
  'Hooli',
  'Vandelay Imports',
  'Soylent Foods',
  'Cyberdyne',
  'Tyrell Labs',
  'Aperture Science',
];
const INTENTS = [
  'Follow up after the product demo',
  'Check on the status of the open support ticket',
  'Send the quarterly review summary',
  'Explain the renewal pricing and the discount options',
  'Answer the question about API rate limits',
  'Draft an apology for the outage last week',
  'Summarize the onboarding progress for the admin team',
  'Propose a meeting to discuss the enterprise upgrade',
  'Clarify the invoice discrepancy on the last billing cycle',
  'Recommend next steps for the data migration project',
];

/** A fixed pool of sentences, big enough that repeated sentences rarely share a compression block. */
class TextPool {
  private readonly sentences: string[] = [];
  constructor(rng: Rng, size: number) {
    for (let i = 0; i < size; i++) {
      const n = rng.int(6, 22);
      const words: string[] = [];
      for (let j = 0; j < n; j++) words.push(rng.weighted(WORDS, ZIPF));
      const first = words[0] as string;
      words[0] = first.charAt(0).toUpperCase() + first.slice(1);
      // Sprinkle the kind of tokens real conversations carry: numbers, amounts, ids, dates.
      const k = rng.next();
      if (k < 0.15) words.splice(rng.int(1, n - 1), 0, `#${rng.int(1000, 99999)}`);
      else if (k < 0.25) words.splice(rng.int(1, n - 1), 0, `$${rng.int(10, 90000)}.${rng.int(10, 99)}`);
      else if (k < 0.3) words.splice(rng.int(1, n - 1), 0, `2026-${String(rng.int(1, 12)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}`);
      const end = rng.next() < 0.12 ? '?' : '.';
      this.sentences.push(words.join(' ') + end);
    }
  }
  /** Roughly `chars` characters of sentences (at least one). */
  text(rng: Rng, chars: number, sep = ' '): string {
    let out = rng.pick(this.sentences);
    while (out.length < chars) out += sep + rng.pick(this.sentences);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Traces
// ---------------------------------------------------------------------------------------------

interface ModelInfo {
  request: string;
  response: string;
  provider: string;
}

/** Request model, the snapshot that answers (normalize stores the response model), and weight. */
const MODELS: ReadonlyArray<ModelInfo & { weight: number }> = [
  { request: 'gpt-4o-mini', response: 'gpt-4o-mini-2024-07-18', provider: 'openai', weight: 35 },
  { request: 'gpt-4o', response: 'gpt-4o-2024-08-06', provider: 'openai', weight: 20 },
  { request: 'claude-3-5-sonnet', response: 'claude-3-5-sonnet-20241022', provider: 'anthropic', weight: 15 },
  { request: 'claude-3-5-haiku', response: 'claude-3-5-haiku-20241022', provider: 'anthropic', weight: 10 },
  { request: 'gemini-1.5-pro', response: 'gemini-1.5-pro-002', provider: 'gcp.gemini', weight: 10 },
  { request: 'gemini-1.5-flash', response: 'gemini-1.5-flash-002', provider: 'gcp.gemini', weight: 5 },
  { request: 'llama-3.1-70b-instruct', response: 'llama-3.1-70b-instruct', provider: 'aws.bedrock', weight: 5 },
];
const MODEL_CUM = cumulate(MODELS.map((m) => m.weight));

/** Metadata values and their shares, for `metadata.customer_tier = …` filters of known selectivity. */
export const TIERS = ['free', 'pro', 'team', 'enterprise'] as const;
const TIER_CUM = cumulate([50, 30, 15, 5]);
const AGENTS = ['sales_email_agent', 'support_triage_agent', 'account_summary_agent', 'renewal_advisor'];
const DATA_SOURCES = ['crm', 'kb', 'tickets', 'contracts'];

export interface GeneratorOptions {
  seed: number;
  /** Traces start no later than this (epoch ms). */
  endMs: number;
  /** Trace start times are spread evenly (with jitter) over [endMs - windowMs, endMs). */
  windowMs: number;
  /** How many traces the window holds; the generator can make more, they just continue past endMs. */
  traces: number;
  /** Multiplies every text length; 1 gives ~2 KB JSONEachRow span rows on average. */
  textScale?: number;
}

export interface GeneratedTrace {
  traceId: string;
  /** Epoch ms the root span starts. */
  startMs: number;
  /** In the order a BatchSpanProcessor exports them: retriever, chat, then the agent root (ends last). */
  spans: ReadableSpan[];
}

const SPAN_KIND_INTERNAL = 0;
const SPAN_KIND_CLIENT = 2;

/** Epoch microseconds → HrTime (µs keeps integer arithmetic exact: current epochs are < 2^53 µs). */
const hr = (us: number): HrTime => [Math.floor(us / 1e6), (us % 1e6) * 1000];

const message = (role: string, content: string, extra?: Record<string, string>): Record<string, unknown> => ({
  role,
  parts: [{ type: 'text', content }],
  ...extra,
});

export class GenAITraceGenerator {
  private readonly rng: Rng;
  private readonly pool: TextPool;
  private readonly resources: Resource[];
  private readonly scale: number;
  private readonly stepUs: number;
  private readonly startUs: number;
  private index = 0;

  constructor(opts: GeneratorOptions) {
    this.rng = new Rng(opts.seed);
    // The pool has its own stream so changing its size does not shift every trace's ids.
    this.pool = new TextPool(new Rng(opts.seed ^ 0x5eed), 32_768);
    this.scale = opts.textScale ?? 1;
    this.startUs = (opts.endMs - opts.windowMs) * 1000;
    this.stepUs = (opts.windowMs * 1000) / Math.max(1, opts.traces);
    // A few services with their own Resource objects: the serializer groups spans by Resource identity.
    this.resources = ['sales-email-app', 'support-bot', 'account-insights'].map((name, i) =>
      resourceFromAttributes({
        'service.name': name,
        'service.version': `1.${i + 2}.0`,
        'deployment.environment.name': 'production',
        'telemetry.sdk.language': 'python',
        'telemetry.sdk.name': 'opentelemetry',
        'telemetry.sdk.version': '1.38.0',
      }),
    );
  }

  private len(base: number, spread: number): number {
    // Skewed lengths: most messages short-ish, a tail of long ones (as with real prompts).
    const r = this.rng.next();
    return Math.round((base + spread * r * r * 2) * this.scale);
  }

  nextTrace(): GeneratedTrace {
    const rng = this.rng;
    const i = this.index++;
    const traceId = rng.hex(32);
    const rootId = rng.hex(16);
    const retrId = rng.hex(16);
    const chatId = rng.hex(16);
    const resource = this.resources[i % this.resources.length] as Resource;

    const rootStart = Math.floor(this.startUs + (i + rng.next()) * this.stepUs);
    const retrStart = rootStart + rng.int(200, 3_000);
    const retrEnd = retrStart + rng.int(20_000, 300_000);
    const chatStart = retrEnd + rng.int(100, 2_000);
    const chatEnd = chatStart + rng.int(400_000, 9_000_000);
    const rootEnd = chatEnd + rng.int(200, 5_000);

    const company = rng.pick(COMPANIES);
    const person = `${rng.pick(FIRST)} ${rng.pick(LAST)}`;
    const intent = rng.pick(INTENTS);
    const agent = rng.pick(AGENTS);
    const model = rng.weighted(MODELS, MODEL_CUM);
    const userId = `user-${rng.int(1, 5000)}`;
    const sessionId = `sess-${rng.hex(12)}`;
    const tier = rng.weighted(TIERS, TIER_CUM);
    const failed = rng.next() < 0.03;

    const question = `${company} (${person}): ${intent}. ${this.pool.text(rng, this.len(40, 60))}`;
    const answer = this.pool.text(rng, this.len(80, 80));

    // Retrieval: three documents about the customer.
    const source = rng.pick(DATA_SOURCES);
    const docs = [0, 1, 2].map((d) => ({
      id: `${source}:${company.replace(/\s+/g, '_').toLowerCase()}:${rng.int(1000, 999999)}`,
      score: Math.round((0.95 - d * 0.1 - rng.next() * 0.1) * 1000) / 1000,
      content: this.pool.text(rng, this.len(40, 40)),
    }));

    // Chat: system instructions, the retrieved context and the question in; the completion out.
    const system = `You are ${agent.replace(/_/g, ' ')} for ${company}. ${this.pool.text(rng, this.len(80, 60))}`;
    const contextText = docs.map((d) => `[${d.id}] ${d.content}`).join('\n');
    const history =
      rng.next() < 0.3 ? [message('user', this.pool.text(rng, this.len(40, 40))), message('assistant', this.pool.text(rng, this.len(60, 60)))] : [];
    const inputMessages = [
      ...history,
      message('user', `Context:\n${contextText}\n\nTask: ${intent} for ${person} at ${company}. ${this.pool.text(rng, this.len(60, 80))}`),
    ];
    const completion = failed
      ? ''
      : `Subject: ${intent}\n\nDear ${person},\n\n${this.pool.text(rng, this.len(200, 250), rng.next() < 0.5 ? ' ' : '\n\n')}\n\nBest regards,\n${agent}`;
    const inputTokens = Math.round((system.length + contextText.length + 400) / 4) + rng.int(0, 50);
    const outputTokens = Math.round(completion.length / 4) + rng.int(1, 20);

    const ctx = (spanId: string): SpanContext => ({ traceId, spanId, traceFlags: 1 });
    const rootCtx = ctx(rootId);
    const scope = { name: 'opentelemetry.instrumentation.genai', version: '0.3b0' };
    const base = (
      name: string,
      kind: number,
      spanId: string,
      parent: SpanContext | undefined,
      startUs: number,
      endUs: number,
      attributes: Attributes,
      status: { code: number; message?: string },
      instrumentationScope: { name: string; version?: string },
    ): ReadableSpan => {
      const c = ctx(spanId);
      return {
        name,
        kind,
        spanContext: () => c,
        parentSpanContext: parent,
        startTime: hr(startUs),
        endTime: hr(endUs),
        duration: hr(endUs - startUs),
        status,
        attributes,
        links: [],
        events: [],
        ended: true,
        resource,
        instrumentationScope,
        droppedAttributesCount: 0,
        droppedEventsCount: 0,
        droppedLinksCount: 0,
      };
    };

    const retriever = base(
      `retrieval ${source}`,
      SPAN_KIND_CLIENT,
      retrId,
      rootCtx,
      retrStart,
      retrEnd,
      {
        'gen_ai.operation.name': 'retrieval',
        'gen_ai.data_source.id': source,
        'gen_ai.retrieval.query.text': `${company} ${intent.toLowerCase()}`,
        'gen_ai.retrieval.documents': JSON.stringify(docs),
        'gen_ai.request.top_k': 3,
      },
      { code: 0 },
      scope,
    );

    const chatAttrs: Attributes = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': model.provider,
      'gen_ai.request.model': model.request,
      'gen_ai.request.max_tokens': 2048,
      'gen_ai.request.temperature': rng.pick([0, 0.2, 0.7, 1]),
      'server.address': model.provider === 'openai' ? 'api.openai.com' : `${model.provider}.example.net`,
      'server.port': 443,
      'gen_ai.system_instructions': JSON.stringify([{ type: 'text', content: system }]),
      'gen_ai.input.messages': JSON.stringify(inputMessages),
      'gen_ai.usage.input_tokens': inputTokens,
    };
    if (failed) {
      chatAttrs['error.type'] = rng.pick(['RateLimitError', 'APITimeoutError', 'InternalServerError']);
    } else {
      chatAttrs['gen_ai.response.model'] = model.response;
      chatAttrs['gen_ai.response.id'] = `chatcmpl-${rng.hex(24)}`;
      chatAttrs['gen_ai.response.finish_reasons'] = ['stop'];
      chatAttrs['gen_ai.usage.output_tokens'] = outputTokens;
      chatAttrs['gen_ai.output.messages'] = JSON.stringify([message('assistant', completion, { finish_reason: 'stop' })]);
    }
    const errorStatus = { code: 2, message: `${String(chatAttrs['error.type'])}: upstream model call failed` };
    const chat = base(`chat ${model.request}`, SPAN_KIND_CLIENT, chatId, rootCtx, chatStart, chatEnd, chatAttrs, failed ? errorStatus : { code: 0 }, {
      name: 'opentelemetry.instrumentation.openai_v2',
      version: '2.1b0',
    });

    const rootAttrs: Attributes = {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': agent,
      'gen_ai.agent.id': `agent-${AGENTS.indexOf(agent) + 1}`,
      'gen_ai.provider.name': model.provider,
      'gen_ai.conversation.id': sessionId,
      'user.id': userId,
      'gen_ai.input.messages': JSON.stringify([message('user', question)]),
      metadata: JSON.stringify({ customer_tier: tier, customer: company, app_version: `2.${i % 7}.0` }),
    };
    if (!failed) rootAttrs['gen_ai.output.messages'] = JSON.stringify([message('assistant', answer, { finish_reason: 'stop' })]);
    const root = base(`invoke_agent ${agent}`, SPAN_KIND_INTERNAL, rootId, undefined, rootStart, rootEnd, rootAttrs, failed ? errorStatus : { code: 1 }, scope);

    return { traceId, startMs: rootStart / 1000, spans: [retriever, chat, root] };
  }

  /** The next `n` spans (whole traces; a trace that does not fit is split at the end, as exporters do). */
  private carry: ReadableSpan[] = [];
  nextSpans(n: number, onTrace?: (t: GeneratedTrace) => void): ReadableSpan[] {
    const out = this.carry.splice(0, n);
    while (out.length < n) {
      const t = this.nextTrace();
      onTrace?.(t);
      const room = n - out.length;
      out.push(...t.spans.slice(0, room));
      if (t.spans.length > room) this.carry.push(...t.spans.slice(room));
    }
    return out;
  }
}

/** One OTLP/protobuf `ExportTraceServiceRequest` body for these spans. */
export function serializeSpans(spans: ReadableSpan[]): Buffer {
  const bytes = ProtobufTraceSerializer.serializeRequest(spans);
  if (!bytes) throw new Error('ProtobufTraceSerializer produced no bytes');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export interface RequestSetOptions extends GeneratorOptions {
  requests: number;
  spansPerRequest: number;
}

/** `requests` serialized request bodies of `spansPerRequest` spans each, plus the traces they hold. */
export function generateRequests(opts: RequestSetOptions): { bodies: Buffer[]; traces: GeneratedTrace[]; spans: number } {
  const gen = new GenAITraceGenerator(opts);
  const traces: GeneratedTrace[] = [];
  const bodies: Buffer[] = [];
  for (let r = 0; r < opts.requests; r++) bodies.push(serializeSpans(gen.nextSpans(opts.spansPerRequest, (t) => traces.push(t))));
  return { bodies, traces, spans: opts.requests * opts.spansPerRequest };
}
