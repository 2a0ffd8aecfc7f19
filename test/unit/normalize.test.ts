import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Json, NormalizedSpan } from '../../src/model/genai.js';
import type { Attributes, Resource, Scope, Span, StatusCode } from '../../src/model/otlp.js';
import { genaiEventsToIO, normalizeSpan } from '../../src/normalize/index.js';
import { decodeTraceRequest } from '../../src/otlp/decode.js';
import { loadFacts, type FixtureName } from '../helpers/fixtures.js';

// ---------------------------------------------------------------------------------------------------------
// Local OTLP/JSON → model conversion, until src/otlp/decode.ts lands.
// ---------------------------------------------------------------------------------------------------------

interface JsonAnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  bytesValue?: string;
  arrayValue?: { values?: JsonAnyValue[] };
  kvlistValue?: { values?: JsonKeyValue[] };
}
interface JsonKeyValue {
  key: string;
  value?: JsonAnyValue;
}
interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: JsonKeyValue[];
  events?: Array<{ timeUnixNano: string; name: string; attributes?: JsonKeyValue[] }>;
  links?: Array<{ traceId: string; spanId: string; attributes?: JsonKeyValue[] }>;
  status?: { code?: number; message?: string };
}
interface JsonRequest {
  resourceSpans: Array<{
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans: Array<{ scope?: { name?: string; version?: string }; spans: JsonSpan[] }>;
  }>;
}

function anyValue(v: JsonAnyValue | undefined): Json {
  if (v === undefined) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) {
    const n = Number(v.intValue);
    return Number.isSafeInteger(n) ? n : String(v.intValue);
  }
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.bytesValue !== undefined) return v.bytesValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(anyValue);
  if (v.kvlistValue !== undefined) return attributes(v.kvlistValue.values);
  return null;
}

function attributes(kvs: JsonKeyValue[] | undefined): Attributes {
  const out: Attributes = {};
  for (const kv of kvs ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

interface Loaded {
  span: Span;
  resource: Resource;
  scope: Scope;
}

function loadTraces(name: string): Loaded[] {
  const path = fileURLToPath(new URL(`../fixtures/${name}.traces.json`, import.meta.url));
  const req = JSON.parse(readFileSync(path, 'utf8')) as JsonRequest;
  const out: Loaded[] = [];
  for (const rs of req.resourceSpans) {
    const resource: Resource = { attributes: attributes(rs.resource?.attributes) };
    for (const ss of rs.scopeSpans) {
      const scope: Scope = { name: ss.scope?.name ?? '', version: ss.scope?.version ?? '' };
      for (const s of ss.spans) {
        const span: Span = {
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? '',
          traceState: s.traceState ?? '',
          name: s.name,
          kind: s.kind ?? 0,
          startTimeNs: s.startTimeUnixNano,
          endTimeNs: s.endTimeUnixNano,
          attributes: attributes(s.attributes),
          events: (s.events ?? []).map((e) => ({
            timeNs: e.timeUnixNano,
            name: e.name,
            attributes: attributes(e.attributes),
          })),
          links: (s.links ?? []).map((l) => ({
            traceId: l.traceId,
            spanId: l.spanId,
            attributes: attributes(l.attributes),
          })),
          status: { code: (s.status?.code ?? 0) as StatusCode, message: s.status?.message ?? '' },
        };
        out.push({ span, resource, scope });
      }
    }
  }
  return out;
}

/** True when `text` occurs in any string of the value, looking inside JSON-encoded strings too. */
function containsText(v: Json | undefined, text: string): boolean {
  if (typeof v === 'string') {
    if (v.includes(text)) return true;
    const t = v.trimStart();
    if (t.startsWith('{') || t.startsWith('[')) {
      try {
        return containsText(JSON.parse(v) as Json, text);
      } catch {
        return false;
      }
    }
    return false;
  }
  if (Array.isArray(v)) return v.some((x) => containsText(x, text));
  if (v !== null && typeof v === 'object') return Object.values(v).some((x) => containsText(x, text));
  return false;
}

// ---------------------------------------------------------------------------------------------------------
// Fixture expectations per library. What differs is what each instrumentation actually captured.
// ---------------------------------------------------------------------------------------------------------

interface Expect {
  llmModel: string;
  llmType: 'LLM' | 'CHAT_MODEL';
  /** Whether the failed request produced an LLM span at all. */
  errorLlmSpan: boolean;
  /** @opentelemetry/instrumentation-openai records content as log events, not on the span. */
  llmContentOnSpan: boolean;
  rootType: string;
  retrieverType: string;
  /** Type of a retriever span that returned no documents, when it differs. */
  emptyRetrieverType?: string;
  /** The vercel app spans carry no attributes at all: nothing to normalize there. */
  appSpansCarryData: boolean;
  scores: boolean;
}

const EXPECT: Record<FixtureName, Expect> = {
  openinference: {
    llmContentOnSpan: true,
    llmModel: 'gpt-4o-mini-2024-07-18',
    llmType: 'LLM',
    errorLlmSpan: false,
    rootType: 'AGENT',
    retrieverType: 'RETRIEVER',
    appSpansCarryData: true,
    scores: true,
  },
  traceloop: {
    llmContentOnSpan: true,
    llmModel: 'gpt-4o-mini-2024-07-18',
    llmType: 'CHAT_MODEL',
    errorLlmSpan: false,
    rootType: 'CHAIN',
    // OpenLLMetry marks the retriever a `task`; its Document-shaped output makes it a RETRIEVER (when non-empty).
    retrieverType: 'RETRIEVER',
    emptyRetrieverType: 'CHAIN',
    appSpansCarryData: true,
    scores: false,
  },
  'otel-genai': {
    llmContentOnSpan: false,
    llmModel: 'gpt-4o-mini-2024-07-18',
    llmType: 'CHAT_MODEL',
    errorLlmSpan: true,
    rootType: 'AGENT',
    retrieverType: 'RETRIEVER',
    appSpansCarryData: true,
    scores: true,
  },
  vercel: {
    llmContentOnSpan: true,
    llmModel: 'gpt-4o-mini-2024-07-18',
    llmType: 'LLM',
    errorLlmSpan: true,
    rootType: 'UNKNOWN',
    retrieverType: 'UNKNOWN',
    appSpansCarryData: false,
    scores: false,
  },
  mlflow: {
    llmContentOnSpan: true,
    // MLflow records the requested model only (the response model is inside the outputs).
    llmModel: 'gpt-4o-mini',
    llmType: 'CHAT_MODEL',
    errorLlmSpan: true,
    rootType: 'AGENT',
    retrieverType: 'RETRIEVER',
    appSpansCarryData: true,
    scores: false,
  },
};

for (const name of Object.keys(EXPECT) as FixtureName[]) {
  const exp = EXPECT[name]!;
  describe(`normalizeSpan on ${name} fixtures`, () => {
    const loaded = loadTraces(name);
    const facts = loadFacts(name);
    const normalized = loaded.map((l) => ({ span: l.span, n: normalizeSpan(l.span, l.resource, l.scope) }));

    it('has the span count the facts state', () => {
      expect(loaded.length).toBe(facts.span_count);
    });

    for (const t of facts.traces) {
      describe(`trace ${t.trace_id} (${t.state})`, () => {
        const spans = normalized.filter((x) => x.span.traceId === t.trace_id);
        const llm = spans.filter((x) => x.n.spanType === 'LLM' || x.n.spanType === 'CHAT_MODEL');
        const root = spans.find((x) => x.span.parentSpanId === '');
        const retriever = spans.find((x) => x.span.name === 'retrieve_customer_info');

        it('LLM span: type, model, provider, usage', () => {
          if (t.state === 'ERROR' && !exp.errorLlmSpan) {
            expect(llm).toHaveLength(0);
            return;
          }
          expect(llm).toHaveLength(1);
          const n = llm[0]!.n;
          expect(n.spanType).toBe(exp.llmType);
          expect(n.provider).toBe('openai');
          if (t.state === 'OK') {
            expect(n.model).toBe(exp.llmModel);
            expect(n.usage).toMatchObject(t.token_usage!);
            expect(n.errorMessage).toBe('');
            if (exp.llmContentOnSpan) {
              expect(containsText(n.inputs, t.user_instructions)).toBe(true);
              expect(containsText(n.outputs, t.email!)).toBe(true);
            } else {
              expect(n.inputs).toBeUndefined();
            }
          } else {
            expect(n.model).toBe('error-model');
            expect(n.usage).toBeNull();
            expect(n.errorMessage).toMatch(/model is overloaded/);
          }
        });

        it('retriever span: type and documents', () => {
          expect(retriever).toBeDefined();
          const n = retriever!.n;
          expect(n.spanType).toBe(t.documents === 0 ? (exp.emptyRetrieverType ?? exp.retrieverType) : exp.retrieverType);
          if (!exp.appSpansCarryData) {
            expect(n.documents).toEqual([]);
            return;
          }
          expect(n.documents).toHaveLength(t.documents);
          for (const doc of n.documents) {
            expect(doc.content).toEqual(expect.any(String));
            expect(doc.content!.length).toBeGreaterThan(0);
            expect(doc.id).toEqual(expect.any(String));
            if (exp.scores) expect(doc.score).toEqual(expect.any(Number));
          }
          if (exp.scores && n.documents.length > 0) expect(n.documents.map((d) => d.score)).toEqual([1, 0.9, 0.8]);
          if (name === 'mlflow' && n.documents.length > 0) expect(n.documents[0]!.uri).toMatch(/^crm:\/\//);
          expect(containsText(n.inputs, t.customer_name)).toBe(true);
        });

        it('root span: type, inputs/outputs, session/user, error', () => {
          expect(root).toBeDefined();
          const n = root!.n;
          expect(n.spanType).toBe(exp.rootType);
          if (t.state === 'ERROR') {
            expect(root!.span.status.code).toBe(2);
            expect(n.errorMessage).toMatch(/model is overloaded/);
          } else {
            expect(n.errorMessage).toBe('');
          }
          if (!exp.appSpansCarryData) {
            expect(n.inputs).toBeUndefined();
            expect(n.sessionId).toBe('');
            return;
          }
          expect(n.inputs).toBeDefined();
          expect(containsText(n.inputs, t.customer_name)).toBe(true);
          expect(containsText(n.inputs, t.user_instructions)).toBe(true);
          if (t.state === 'OK') expect(containsText(n.outputs, t.email!)).toBe(true);
          else expect(n.outputs).toBeUndefined();
          expect(n.sessionId).toBe(t.session);
          expect(n.userId).toBe(t.user);
        });

        if (name === 'vercel') {
          it('ai.generateText wrapper: CHAIN with prompt, text, metadata session/user and usage', () => {
            const wrapper = spans.find((x) => x.span.name === 'ai.generateText')!.n;
            expect(wrapper.spanType).toBe('CHAIN');
            expect(wrapper.sessionId).toBe(t.session);
            expect(wrapper.userId).toBe(t.user);
            expect(wrapper.inputs).toMatchObject({ prompt: expect.any(String) });
            if (t.state === 'OK') {
              expect(wrapper.outputs).toBe(t.email);
              expect(wrapper.usage).toMatchObject({ ...t.token_usage, cache_read_tokens: 0, reasoning_tokens: 0 });
              expect(llm[0]!.n.sessionId).toBe(t.session);
            } else {
              expect(wrapper.errorMessage).toBe('The model is overloaded');
            }
          });
        }
      });
    }

    if (name === 'openinference') {
      it('maps metadata and tag.tags', () => {
        const root = normalized.find((x) => x.span.parentSpanId === '')!.n;
        expect(root.metadata).toEqual({ env: 'prod' });
        expect(root.tags).toEqual({ sales: '', email: '' });
      });
    }
  });
}

describe('normalizeSpan on spans from the real decoder', () => {
  for (const name of Object.keys(EXPECT) as FixtureName[]) {
    it(`${name}: protobuf and OTLP/JSON decode normalize like the local helper`, () => {
      const expected = loadTraces(name).map((l) => normalizeSpan(l.span, l.resource, l.scope));
      for (const format of ['protobuf', 'json'] as const) {
        const file = `../fixtures/${name}.traces.${format === 'protobuf' ? 'pb' : 'json'}`;
        const req = decodeTraceRequest(readFileSync(fileURLToPath(new URL(file, import.meta.url))), format);
        const got: NormalizedSpan[] = [];
        for (const rs of req.resourceSpans) {
          for (const ss of rs.scopeSpans) for (const s of ss.spans) got.push(normalizeSpan(s, rs.resource, ss.scope));
        }
        expect(got).toEqual(expected);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------------------
// Synthetic spans for conventions and variants the fixtures do not cover.
// ---------------------------------------------------------------------------------------------------------

const RESOURCE: Resource = { attributes: { 'service.name': 'svc' } };
const SCOPE: Scope = { name: 'test', version: '1' };

function mkSpan(name: string, attrs: Attributes, opts: { events?: Span['events']; status?: Span['status'] } = {}): Span {
  return {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    parentSpanId: '',
    traceState: '',
    name,
    kind: 1,
    startTimeNs: '1700000000000000000',
    endTimeNs: '1700000001000000000',
    attributes: attrs,
    events: opts.events ?? [],
    links: [],
    status: opts.status ?? { code: 0, message: '' },
  };
}

const norm = (name: string, attrs: Attributes, opts?: Parameters<typeof mkSpan>[2]): NormalizedSpan =>
  normalizeSpan(mkSpan(name, attrs, opts), RESOURCE, SCOPE);

describe('OpenTelemetry GenAI (synthetic)', () => {
  it('reads old prompt_tokens/completion_tokens names and computes a missing total', () => {
    const n = norm('chat gpt-4', {
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4',
      'gen_ai.usage.prompt_tokens': 12,
      'gen_ai.usage.completion_tokens': 5,
    });
    expect(n.spanType).toBe('UNKNOWN');
    expect(n.model).toBe('gpt-4');
    expect(n.provider).toBe('openai');
    expect(n.usage).toEqual({
      input_tokens: 12,
      output_tokens: 5,
      total_tokens: 17,
      cache_read_tokens: null,
      reasoning_tokens: null,
    });
  });

  it('reads cache/reasoning tokens, string int64s, provider.name over system, system instructions', () => {
    const n = norm('chat', {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.system': 'legacy',
      'gen_ai.request.model': 'claude',
      'gen_ai.usage.input_tokens': '100',
      'gen_ai.usage.output_tokens': 20,
      'gen_ai.usage.cache_read.input_tokens': 64,
      'gen_ai.usage.reasoning.output_tokens': 7,
      'gen_ai.system_instructions': '[{"type":"text","content":"Be brief."}]',
      'gen_ai.input.messages': [{ role: 'user', parts: [{ type: 'text', content: 'hi' }] }],
      'gen_ai.output.messages': '[{"role":"assistant","parts":[{"type":"text","content":"hello"}]}]',
    });
    expect(n.spanType).toBe('CHAT_MODEL');
    expect(n.provider).toBe('anthropic');
    expect(n.usage).toEqual({
      input_tokens: 100,
      output_tokens: 20,
      total_tokens: 120,
      cache_read_tokens: 64,
      reasoning_tokens: 7,
    });
    expect(n.inputs).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'Be brief.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'hi' }] },
    ]);
    expect(n.outputs).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'hello' }] }]);
  });

  it('maps every operation name', () => {
    const cases: Array<[string, string]> = [
      ['chat', 'CHAT_MODEL'],
      ['text_completion', 'LLM'],
      ['generate_content', 'LLM'],
      ['embeddings', 'EMBEDDING'],
      ['execute_tool', 'TOOL'],
      ['invoke_agent', 'AGENT'],
      ['create_agent', 'AGENT'],
      ['retrieval', 'RETRIEVER'],
      ['something_else', 'UNKNOWN'],
    ];
    for (const [op, type] of cases) expect(norm('x', { 'gen_ai.operation.name': op }).spanType).toBe(type);
    expect(norm('x', {}).spanType).toBe('UNKNOWN');
  });

  it('execute_tool span: tool call from gen_ai.tool.* with args/result as inputs/outputs', () => {
    const n = norm('execute_tool get_weather', {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'get_weather',
      'gen_ai.tool.call.id': 'call_1',
      'gen_ai.tool.call.arguments': '{"city":"Paris"}',
      'gen_ai.tool.call.result': '{"temp":21}',
    });
    expect(n.spanType).toBe('TOOL');
    expect(n.tool).toEqual({ name: 'get_weather', arguments: { city: 'Paris' }, result: { temp: 21 } });
    expect(n.inputs).toEqual({ city: 'Paris' });
    expect(n.outputs).toEqual({ temp: 21 });
  });

  it('retrieval span: uri from document metadata, conversation id → session', () => {
    const n = norm('retrieval', {
      'gen_ai.operation.name': 'retrieval',
      'gen_ai.conversation.id': 'conv-9',
      'gen_ai.retrieval.query.text': 'q',
      'gen_ai.retrieval.documents': JSON.stringify([
        { id: 'a', content: 'A', score: 0.5, metadata: { url: 'https://x/a' } },
        { id: 'b', content: 'B', metadata: { source: 's3://b' } },
      ]),
    });
    expect(n.sessionId).toBe('conv-9');
    expect(n.inputs).toBe('q');
    expect(n.documents).toEqual([
      { id: 'a', content: 'A', score: 0.5, uri: 'https://x/a' },
      { id: 'b', content: 'B', score: null, uri: 's3://b' },
    ]);
  });

  it('GenAI per-message span events become inputs/outputs', () => {
    const n = norm(
      'chat gpt-4o',
      { 'gen_ai.operation.name': 'chat', 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4o' },
      {
        events: [
          { timeNs: '1', name: 'gen_ai.system.message', attributes: { 'gen_ai.system': 'openai', content: 'sys' } },
          { timeNs: '2', name: 'gen_ai.user.message', attributes: { 'gen_ai.system': 'openai', content: 'hi' } },
          {
            timeNs: '3',
            name: 'gen_ai.choice',
            attributes: { 'gen_ai.system': 'openai', index: 0, finish_reason: 'stop', message: { content: 'yo' } },
          },
        ],
      },
    );
    expect(n.inputs).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'hi' },
    ]);
    expect(n.outputs).toEqual([{ index: 0, finish_reason: 'stop', message: { content: 'yo' } }]);
  });

  it('gen_ai.client.inference.operation.details span event', () => {
    const n = norm(
      'chat',
      { 'gen_ai.operation.name': 'chat' },
      {
        events: [
          {
            timeNs: '1',
            name: 'gen_ai.client.inference.operation.details',
            attributes: {
              'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"q"}]}]',
              'gen_ai.output.messages': [{ role: 'assistant', parts: [{ type: 'text', content: 'a' }] }],
            },
          },
        ],
      },
    );
    expect(n.inputs).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'q' }] }]);
    expect(n.outputs).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'a' }] }]);
  });

  it('exception event message when the status has none; OK spans ignore handled exceptions', () => {
    const exc = [{ timeNs: '1', name: 'exception', attributes: { 'exception.message': 'boom', 'exception.type': 'E' } }];
    expect(norm('x', {}, { events: exc, status: { code: 2, message: '' } }).errorMessage).toBe('boom');
    expect(norm('x', {}, { events: exc, status: { code: 2, message: 'status msg' } }).errorMessage).toBe('status msg');
    expect(norm('x', {}, { events: exc, status: { code: 1, message: '' } }).errorMessage).toBe('');
    expect(norm('x', { 'error.type': 'Timeout' }, { status: { code: 2, message: '' } }).errorMessage).toBe('Timeout');
  });

  it('usage is null without token counts', () => {
    expect(norm('x', { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm' }).usage).toBeNull();
  });
});

describe('genaiEventsToIO (log records)', () => {
  it('reads payloads from log bodies', () => {
    const io = genaiEventsToIO([
      { name: 'gen_ai.system.message', attributes: { 'gen_ai.system': 'openai' }, body: { content: 'sys' } },
      { name: 'gen_ai.user.message', attributes: {}, body: { content: 'hello' } },
      {
        name: 'gen_ai.assistant.message',
        attributes: {},
        body: { tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: { a: 1 } } }] },
      },
      { name: 'gen_ai.tool.message', attributes: {}, body: { id: 'c1', content: 'r' } },
      {
        name: 'gen_ai.choice',
        attributes: {},
        body: { index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'done' } },
      },
    ]);
    expect(io.inputs).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'hello' },
      { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: { a: 1 } } }] },
      { role: 'tool', id: 'c1', content: 'r' },
    ]);
    expect(io.outputs).toEqual([{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'done' } }]);
  });

  it('reads the operation.details event with system instructions', () => {
    const io = genaiEventsToIO([
      {
        name: 'gen_ai.client.inference.operation.details',
        attributes: {
          'gen_ai.system_instructions': [{ type: 'text', content: 'be nice' }],
          'gen_ai.input.messages': [{ role: 'user', parts: [{ type: 'text', content: 'q' }] }],
          'gen_ai.output.messages': [{ role: 'assistant', parts: [{ type: 'text', content: 'a' }] }],
        },
      },
    ]);
    expect(io.inputs).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'be nice' }] },
      { role: 'user', parts: [{ type: 'text', content: 'q' }] },
    ]);
    expect(io.outputs).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'a' }] }]);
  });

  it('returns nothing for unrelated events', () => {
    expect(genaiEventsToIO([{ name: 'exception', attributes: { 'exception.message': 'x' } }])).toEqual({});
    expect(genaiEventsToIO([])).toEqual({});
  });
});

describe('OpenLLMetry legacy indexed form (synthetic)', () => {
  it('rebuilds prompt/completion messages, request type and llm.usage.total_tokens', () => {
    const n = norm('openai.chat', {
      'llm.request.type': 'chat',
      'gen_ai.system': 'OpenAI',
      'gen_ai.request.model': 'gpt-3.5-turbo',
      'gen_ai.response.model': 'gpt-3.5-turbo-0125',
      'gen_ai.prompt.0.role': 'system',
      'gen_ai.prompt.0.content': 'You are helpful',
      'gen_ai.prompt.1.role': 'user',
      'gen_ai.prompt.1.content': '[{"type":"text","text":"Tell me a joke"}]',
      'gen_ai.completion.0.role': 'assistant',
      'gen_ai.completion.0.finish_reason': 'tool_calls',
      'gen_ai.completion.0.tool_calls.0.name': 'get_joke',
      'gen_ai.completion.0.tool_calls.0.arguments': '{}',
      'gen_ai.usage.prompt_tokens': 30,
      'gen_ai.usage.completion_tokens': 10,
      'llm.usage.total_tokens': 40,
      'gen_ai.usage.cache_read_input_tokens': 8,
    });
    expect(n.spanType).toBe('CHAT_MODEL');
    expect(n.model).toBe('gpt-3.5-turbo-0125');
    expect(n.provider).toBe('OpenAI');
    expect(n.inputs).toEqual([
      { role: 'system', content: 'You are helpful' },
      { role: 'user', content: [{ type: 'text', text: 'Tell me a joke' }] },
    ]);
    expect(n.outputs).toEqual([{ role: 'assistant', finish_reason: 'tool_calls', tool_calls: [{ name: 'get_joke', arguments: '{}' }] }]);
    expect(n.usage).toEqual({
      input_tokens: 30,
      output_tokens: 10,
      total_tokens: 40,
      cache_read_tokens: 8,
      reasoning_tokens: null,
    });
  });

  it('completion request type is LLM; traceloop kinds, entity IO and association properties', () => {
    expect(norm('openai.completion', { 'llm.request.type': 'completion', 'gen_ai.system': 'OpenAI' }).spanType).toBe('LLM');
    const agent = norm('planner.agent', {
      'traceloop.span.kind': 'agent',
      'traceloop.entity.name': 'planner',
      'traceloop.entity.input': '{"inputs":{"goal":"x"}}',
      'traceloop.entity.output': '"plain result"',
      'traceloop.association.properties.session_id': 'sess',
      'traceloop.association.properties.user_id': 'usr',
      'traceloop.association.properties.tenant': 'acme',
    });
    expect(agent.spanType).toBe('AGENT');
    expect(agent.inputs).toEqual({ inputs: { goal: 'x' } });
    expect(agent.outputs).toBe('plain result');
    expect(agent.sessionId).toBe('sess');
    expect(agent.userId).toBe('usr');
    expect(agent.metadata).toEqual({ tenant: 'acme' });

    const tool = norm('search.tool', {
      'traceloop.span.kind': 'tool',
      'traceloop.entity.name': 'search',
      'traceloop.entity.input': '{"args":["q"],"kwargs":{}}',
      'traceloop.entity.output': '["r1"]',
    });
    expect(tool.spanType).toBe('TOOL');
    expect(tool.tool).toEqual({ name: 'search', arguments: { args: ['q'], kwargs: {} }, result: ['r1'] });
    expect(norm('wf', { 'traceloop.span.kind': 'workflow' }).spanType).toBe('CHAIN');
  });
});

describe('OpenInference (synthetic)', () => {
  it('TOOL span: tool.name, arguments from input.value, result from output.value', () => {
    const n = norm('lookup', {
      'openinference.span.kind': 'TOOL',
      'tool.name': 'lookup_order',
      'tool.description': 'Find an order',
      'input.value': '{"order_id":"42"}',
      'input.mime_type': 'application/json',
      'output.value': 'shipped',
      'output.mime_type': 'text/plain',
    });
    expect(n.spanType).toBe('TOOL');
    expect(n.tool).toEqual({ name: 'lookup_order', arguments: { order_id: '42' }, result: 'shipped' });
    expect(n.outputs).toBe('shipped');
  });

  it('LLM span: messages from llm.input_messages over input.value, cache/reasoning tokens, provider', () => {
    const n = norm('ChatAnthropic', {
      'openinference.span.kind': 'LLM',
      'llm.model_name': 'claude-3-5-sonnet',
      'llm.provider': 'anthropic',
      'llm.system': 'anthropic',
      'llm.input_messages.0.message.role': 'system',
      'llm.input_messages.0.message.content': 'sys',
      'llm.input_messages.1.message.role': 'user',
      'llm.input_messages.1.message.content': 'hi',
      'llm.output_messages.0.message.role': 'assistant',
      'llm.output_messages.0.message.tool_calls.0.tool_call.function.name': 'f',
      'llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments': '{"x":1}',
      'llm.token_count.prompt': 10,
      'llm.token_count.completion': 4,
      'llm.token_count.prompt_details.cache_read': 6,
      'llm.token_count.completion_details.reasoning': 2,
      'llm.cost.total': 0.0012,
      'input.value': 'not json (no mime type)',
    });
    expect(n.spanType).toBe('LLM');
    expect(n.provider).toBe('anthropic');
    // The message list wins over input.value (LangChain puts its own serialization there).
    expect(n.inputs).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'hi' },
    ]);
    expect(n.outputs).toEqual([{ role: 'assistant', tool_calls: [{ tool_call: { function: { name: 'f', arguments: '{"x":1}' } } }] }]);
    expect(n.usage).toEqual({
      input_tokens: 10,
      output_tokens: 4,
      total_tokens: 14,
      cache_read_tokens: 6,
      reasoning_tokens: 2,
    });
    expect(n.cost).toBe(0.0012);

    const withoutValue = norm('x', {
      'openinference.span.kind': 'LLM',
      'llm.input_messages.0.message.role': 'user',
      'llm.input_messages.0.message.content': 'hi',
    });
    expect(withoutValue.inputs).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('maps the other span kinds and document metadata uri', () => {
    for (const k of ['CHAIN', 'AGENT', 'EMBEDDING', 'RERANKER', 'GUARDRAIL', 'EVALUATOR', 'RETRIEVER']) {
      expect(norm('x', { 'openinference.span.kind': k }).spanType).toBe(k);
    }
    const n = norm('r', {
      'openinference.span.kind': 'RETRIEVER',
      'retrieval.documents.0.document.id': 7,
      'retrieval.documents.0.document.content': 'doc',
      'retrieval.documents.0.document.metadata': '{"uri":"file:///a.txt"}',
    });
    expect(n.documents).toEqual([{ id: '7', content: 'doc', score: null, uri: 'file:///a.txt' }]);
  });
});

describe('Vercel AI SDK (synthetic)', () => {
  it('ai.toolCall span', () => {
    const n = norm('ai.toolCall', {
      'operation.name': 'ai.toolCall my-fn',
      'ai.operationId': 'ai.toolCall',
      'ai.toolCall.name': 'weather',
      'ai.toolCall.id': 'call_1',
      'ai.toolCall.args': '{"location":"SF"}',
      'ai.toolCall.result': '{"temperature":72}',
    });
    expect(n.spanType).toBe('TOOL');
    expect(n.tool).toEqual({ name: 'weather', arguments: { location: 'SF' }, result: { temperature: 72 } });
    expect(n.inputs).toEqual({ location: 'SF' });
    expect(n.outputs).toEqual({ temperature: 72 });
  });

  it('older promptTokens names, tool calls in the response, metadata', () => {
    const n = norm('ai.streamText.doStream', {
      'ai.operationId': 'ai.streamText.doStream',
      'ai.model.id': 'claude-3-haiku',
      'ai.model.provider': 'anthropic.messages',
      'ai.prompt.messages': '[{"role":"user","content":"hi"}]',
      'ai.response.toolCalls': '[{"toolCallType":"function","toolCallId":"c","toolName":"weather","args":"{}"}]',
      'ai.usage.promptTokens': 9,
      'ai.usage.completionTokens': 3,
      'ai.telemetry.metadata.sessionId': 'S',
      'ai.telemetry.metadata.userId': 'U',
      'ai.telemetry.metadata.plan': 'pro',
    });
    expect(n.spanType).toBe('LLM');
    expect(n.provider).toBe('anthropic');
    expect(n.model).toBe('claude-3-haiku');
    expect(n.usage).toMatchObject({ input_tokens: 9, output_tokens: 3, total_tokens: 12 });
    expect(n.outputs).toEqual({
      toolCalls: [{ toolCallType: 'function', toolCallId: 'c', toolName: 'weather', args: '{}' }],
    });
    expect(n.sessionId).toBe('S');
    expect(n.userId).toBe('U');
    expect(n.metadata).toEqual({ plan: 'pro' });
  });

  it('embed spans', () => {
    expect(norm('ai.embed', { 'ai.operationId': 'ai.embed', 'ai.value': '"hello"' }).inputs).toBe('hello');
    expect(norm('ai.embed.doEmbed', { 'ai.operationId': 'ai.embed.doEmbed' }).spanType).toBe('EMBEDDING');
  });
});

describe('MLflow (synthetic)', () => {
  it('JSON-encoded values, session/user, TOOL name, unknown span type', () => {
    const n = norm('get_weather', {
      'mlflow.spanType': '"TOOL"',
      'mlflow.spanFunctionName': '"get_weather"',
      'mlflow.spanInputs': '{"city":"Oslo"}',
      'mlflow.spanOutputs': '"sunny"',
      'mlflow.trace.session': '"sess-1"',
      'mlflow.trace.user': '"user-1"',
    });
    expect(n.spanType).toBe('TOOL');
    expect(n.tool).toEqual({ name: 'get_weather', arguments: { city: 'Oslo' }, result: 'sunny' });
    expect(n.outputs).toBe('sunny');
    expect(n.sessionId).toBe('sess-1');
    expect(n.userId).toBe('user-1');
    expect(norm('x', { 'mlflow.spanType': '"CUSTOM_THING"' }).spanType).toBe('UNKNOWN');
  });
});

describe('Langfuse (synthetic)', () => {
  it('generation observation with usage, cost, model, trace attributes', () => {
    const n = norm('OpenAI-generation', {
      'langfuse.observation.type': 'generation',
      'langfuse.observation.model.name': 'gpt-4o',
      'langfuse.observation.input': '[{"role":"user","content":"hi"}]',
      'langfuse.observation.output': '{"role":"assistant","content":"hello"}',
      'langfuse.observation.usage_details': '{"input":11,"output":4,"total":15,"input_cached_tokens":2}',
      'langfuse.observation.cost_details': '{"input":0.001,"output":0.002}',
      'langfuse.observation.metadata.step': '3',
      'langfuse.trace.tags': ['prod', 'beta'],
      'langfuse.trace.metadata.team': 'search',
      'session.id': 'ls-1',
      'user.id': 'lu-1',
    });
    expect(n.spanType).toBe('LLM');
    expect(n.model).toBe('gpt-4o');
    expect(n.inputs).toEqual([{ role: 'user', content: 'hi' }]);
    expect(n.outputs).toEqual({ role: 'assistant', content: 'hello' });
    expect(n.usage).toEqual({
      input_tokens: 11,
      output_tokens: 4,
      total_tokens: 15,
      cache_read_tokens: 2,
      reasoning_tokens: null,
    });
    expect(n.cost).toBeCloseTo(0.003);
    expect(n.sessionId).toBe('ls-1');
    expect(n.userId).toBe('lu-1');
    expect(n.tags).toEqual({ prod: '', beta: '' });
    expect(n.metadata).toEqual({ team: 'search', step: '3' });
  });

  it('observation types, langfuse.session.id/user.id, JSON tags, ERROR level', () => {
    const cases: Array<[string, string]> = [
      ['span', 'CHAIN'],
      ['agent', 'AGENT'],
      ['tool', 'TOOL'],
      ['retriever', 'RETRIEVER'],
      ['embedding', 'EMBEDDING'],
      ['guardrail', 'GUARDRAIL'],
      ['evaluator', 'EVALUATOR'],
      ['chain', 'CHAIN'],
      ['event', 'UNKNOWN'],
    ];
    for (const [t, type] of cases) expect(norm('x', { 'langfuse.observation.type': t }).spanType).toBe(type);
    const n = norm('retrieve', {
      'langfuse.observation.type': 'retriever',
      'langfuse.session.id': 's',
      'langfuse.user.id': 'u',
      'langfuse.trace.tags': '["a"]',
      'langfuse.observation.level': 'ERROR',
      'langfuse.observation.status_message': 'index offline',
      'langfuse.observation.output': '[{"page_content":"p","metadata":{"source":"kb://1"}}]',
    });
    expect(n.sessionId).toBe('s');
    expect(n.userId).toBe('u');
    expect(n.tags).toEqual({ a: '' });
    expect(n.errorMessage).toBe('index offline');
    expect(n.documents).toEqual([{ id: null, content: 'p', score: null, uri: 'kb://1' }]);
  });
});

describe('Pydantic AI / Logfire (synthetic)', () => {
  it('invoke_agent span: all_messages in, final_result out, metadata, cost', () => {
    const n = norm('invoke_agent support_agent', {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'support_agent',
      'gen_ai.conversation.id': 'conv-1',
      agent_name: 'support_agent',
      model_name: 'gpt-4o',
      'logfire.msg': 'support_agent run',
      'gen_ai.usage.input_tokens': 120,
      'gen_ai.usage.output_tokens': 30,
      'pydantic_ai.all_messages':
        '[{"role":"user","parts":[{"type":"text","content":"where is my order?"}]},{"role":"assistant","parts":[{"type":"text","content":"{\\"status\\":\\"shipped\\"}"}]}]',
      'gen_ai.system_instructions': '[{"type":"text","content":"You are support."}]',
      final_result: '{"status":"shipped"}',
      metadata: '{"tenant":"acme","tier":2}',
      'operation.cost': 0.0042,
    });
    expect(n.spanType).toBe('AGENT');
    expect(n.sessionId).toBe('conv-1');
    expect(n.inputs).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'You are support.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'where is my order?' }] },
      { role: 'assistant', parts: [{ type: 'text', content: '{"status":"shipped"}' }] },
    ]);
    expect(n.outputs).toEqual({ status: 'shipped' });
    expect(n.metadata).toEqual({ tenant: 'acme', tier: '2' });
    expect(n.cost).toBe(0.0042);
    expect(n.usage).toMatchObject({ input_tokens: 120, output_tokens: 30, total_tokens: 150 });
  });

  it('chat span with operation.cost, plain-text final_result', () => {
    const chat = norm('chat gpt-4o', {
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"hi"}]}]',
      'gen_ai.output.messages': '[{"role":"assistant","parts":[{"type":"text","content":"hey"}]}]',
      'gen_ai.usage.input_tokens': 5,
      'gen_ai.usage.output_tokens': 2,
      'operation.cost': 0.0001,
      'logfire.msg': 'chat gpt-4o',
    });
    expect(chat.spanType).toBe('CHAT_MODEL');
    expect(chat.model).toBe('gpt-4o-2024-08-06');
    expect(chat.cost).toBe(0.0001);
    expect(chat.outputs).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'hey' }] }]);
    expect(norm('agent run', { 'logfire.msg': 'a run', final_result: 'Hello there' }).outputs).toBe('Hello there');
  });

  it('execute_tool span with tool_arguments / tool_response', () => {
    const n = norm('running tool', {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'get_order',
      'gen_ai.tool.call.id': 'call_9',
      tool_arguments: '{"order_id":42}',
      tool_response: 'shipped yesterday',
      'logfire.msg': 'running tool: get_order',
    });
    expect(n.spanType).toBe('TOOL');
    expect(n.tool).toEqual({ name: 'get_order', arguments: { order_id: 42 }, result: 'shipped yesterday' });
    expect(n.inputs).toEqual({ order_id: 42 });
    expect(n.outputs).toBe('shipped yesterday');
  });

  it('instrumentation v1: events packed in a JSON attribute', () => {
    const n = norm('chat gpt-4o', {
      'gen_ai.operation.name': 'chat',
      'logfire.msg': 'chat gpt-4o',
      events: JSON.stringify([
        { 'event.name': 'gen_ai.user.message', role: 'user', content: 'hi', 'gen_ai.message.index': 0 },
        { 'event.name': 'gen_ai.choice', index: 0, message: { role: 'assistant', content: 'hey' } },
      ]),
    });
    expect(n.inputs).toEqual([{ role: 'user', content: 'hi' }]);
    expect(n.outputs).toEqual([{ index: 0, message: { role: 'assistant', content: 'hey' } }]);
  });
});
