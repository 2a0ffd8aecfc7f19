/**
 * The web UI's renderers of messages, documents and tool calls (ui/src/io.tsx), rendered to HTML on the
 * spans each fixture's convention normalizes to, plus tool-call shapes the fixtures do not carry.
 */
import { readFileSync } from 'node:fs';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { Json, NormalizedSpan } from '../../src/model/genai.js';
import type { Span } from '../../src/model/otlp.js';
import { normalizeSpan } from '../../src/normalize/index.js';
import { decodeTraceRequest } from '../../src/otlp/decode.js';
import { Conversation, SpanIO, toMessages } from '../../ui/src/io.js';
import { FIXTURE_NAMES, type FixtureName, fixturePath, loadFacts } from '../helpers/fixtures.js';

function spansOf(name: FixtureName): Array<{ span: Span; n: NormalizedSpan }> {
  const req = decodeTraceRequest(readFileSync(fixturePath(`${name}.traces.pb`)), 'protobuf');
  return req.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((span) => ({ span, n: normalizeSpan(span, rs.resource, ss.scope) }))));
}

const io = (n: NormalizedSpan) => ({
  inputs: n.inputs ?? null,
  outputs: n.outputs ?? null,
  documents: n.documents,
  tool: n.tool ? { ...n.tool, arguments: n.tool.arguments, result: n.tool.result } : null,
});
const html = (n: NormalizedSpan): string => renderToStaticMarkup(createElement(SpanIO, { span: io(n) as Parameters<typeof SpanIO>[0]['span'] }));
const text = (h: string): string =>
  h
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&amp;/g, '&');

describe('renderers on every fixture convention', () => {
  for (const name of FIXTURE_NAMES) {
    const facts = loadFacts(name);
    const acme = facts.traces[0]!;
    const spans = spansOf(name).filter((s) => s.span.traceId === acme.trace_id);

    it(`${name}: the LLM call reads as a conversation (user request, assistant email)`, () => {
      // otel-genai's chat spans carry their messages as log events (joined at read time); its agent span has them as parts.
      const withMessages = spans.filter((s) => toMessages(s.n.inputs ?? null) !== null);
      expect(withMessages.length, 'a span whose inputs are messages').toBeGreaterThan(0);
      const llm = withMessages.find((s) => s.n.spanType === 'LLM' || s.n.spanType === 'CHAT_MODEL') ?? withMessages[0]!;
      const h = html(llm.n);
      expect(h).toContain('data-testid="conversation"');
      expect(h).toContain('data-role="user"');
      expect(text(h)).toContain(name === 'otel-genai' ? 'Follow up after product demo' : 'You are a sales representative');
      const out = toMessages(llm.n.outputs ?? null);
      if (out) {
        expect(out[0]!.role).toBe('assistant');
        expect(text(h)).toContain('Subject: Follow-up');
      } else {
        // Vercel's doGenerate answers plain text: shown as text, not JSON.
        expect(typeof llm.n.outputs).toBe('string');
        expect(h).toContain('<pre class="text">Subject: Follow-up');
      }
    });

    it(`${name}: the retriever's documents with ids${name === 'openinference' || name === 'otel-genai' ? ' and scores' : ''}`, () => {
      const retriever = spans.find((s) => s.n.documents.length > 0);
      if (name === 'vercel') {
        // The AI SDK has no retriever convention: the app's own span carries no documents.
        expect(retriever).toBeUndefined();
        return;
      }
      expect(retriever).toBeDefined();
      const h = html(retriever!.n);
      expect(h).toContain('data-testid="documents"');
      expect((h.match(/class="doc"/g) ?? []).length).toBe(acme.documents);
      expect(text(h)).toContain('Acme Corp_meeting');
      expect(text(h)).toContain('Recent meeting: Product demo on Monday');
      if (retriever!.n.documents[0]!.score !== null) expect(text(h)).toContain(`score ${retriever!.n.documents[0]!.score!.toFixed(3)}`);
      if (name === 'mlflow') expect(text(h)).toContain('crm://Acme Corp_meeting');
    });
  }
});

describe('tool calls and results', () => {
  const render = (v: Json): string => text(renderToStaticMarkup(createElement(Conversation, { messages: toMessages(v)! })));

  it('OpenAI chat: assistant tool_calls (arguments as JSON text) and the tool message answering them', () => {
    const msgs: Json = {
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp_c":18}' },
      ],
    };
    const m = toMessages(msgs)!;
    expect(m[1]!.parts).toEqual([{ kind: 'tool_call', id: 'call_1', name: 'get_weather', args: { city: 'Paris' } }]);
    expect(m[2]!.parts).toEqual([{ kind: 'tool_result', id: 'call_1', name: null, result: { temp_c: 18 } }]);
    const h = render(msgs);
    expect(h).toContain('get_weather');
    expect(h).toContain('"city": "Paris"');
    expect(h).toContain('"temp_c": 18');
  });

  it('OTel GenAI parts: tool_call and tool_call_response', () => {
    const msgs: Json = [
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'c2', name: 'lookup_crm', arguments: { customer: 'Acme Corp' } }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'c2', response: 'Contact: Alice Chen' }] },
    ];
    expect(toMessages(msgs)!.map((x) => x.parts[0]!.kind)).toEqual(['tool_call', 'tool_result']);
    const h = render(msgs);
    expect(h).toContain('lookup_crm');
    expect(h).toContain('Contact: Alice Chen');
  });

  it('Vercel AI SDK content parts: tool-call and tool-result', () => {
    const msgs: Json = [
      { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 't1', toolName: 'search', input: { q: 'pricing' } }] },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 't1', toolName: 'search', output: { hits: 2 } }] },
    ];
    const m = toMessages(msgs)!;
    expect(m[0]!.parts[0]).toMatchObject({ kind: 'tool_call', name: 'search', args: { q: 'pricing' } });
    expect(m[1]!.parts[0]).toMatchObject({ kind: 'tool_result', name: 'search', result: { hits: 2 } });
  });

  it("a TOOL span's arguments and result, as the OTel GenAI execute_tool convention maps them", () => {
    const span: Span = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      parentSpanId: '',
      traceState: '',
      name: 'execute_tool get_weather',
      kind: 1,
      startTimeUnixNano: 1n,
      endTimeUnixNano: 2n,
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'get_weather',
        'gen_ai.tool.call.arguments': '{"city":"Paris"}',
        'gen_ai.tool.call.result': '{"temp_c":18}',
      },
      events: [],
      links: [],
      status: { code: 0, message: '' },
    } as unknown as Span;
    const n = normalizeSpan(span, { attributes: {} }, { name: 't', version: '1' });
    expect(n.tool?.name).toBe('get_weather');
    const h = html(n);
    expect(h).toContain('data-testid="tool"');
    expect(text(h)).toContain('get_weather');
    expect(text(h)).toMatch(/Paris/);
    expect(text(h)).toMatch(/temp_c/);
  });

  it('values that are not a conversation are shown as JSON or text', () => {
    expect(toMessages({ customer_name: 'Acme Corp' })).toBeNull();
    expect(toMessages('hello')).toBeNull();
    expect(toMessages([])).toBeNull();
  });
});
