import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, startTestApp, type TestApp } from '../helpers/app.js';
import { hasPyFixture, loadPyFacts, PY_FIXTURE_NAMES, sendPyFixture, type PyFixtureName } from '../helpers/py-fixtures.js';
import type { SpanView, TraceDetailView, TraceInfoView } from '../../src/api/views.js';

/**
 * The captures from the real Python instrumentations (test/fixtures/capture), sent over OTLP/HTTP as
 * they were received: what a user of each library sees in tracehouse.
 */
const NAMES = PY_FIXTURE_NAMES.filter(hasPyFixture);
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
  for (const name of NAMES) await sendPyFixture(t.otlpHttp, name, name);
});
afterAll(async () => {
  await t?.stop();
});

const search = async (project: string, filter = ''): Promise<TraceInfoView[]> => {
  const q = new URLSearchParams({ project, max_results: '100', filter });
  const { status, body } = await getJson<{ traces: TraceInfoView[] }>(`${t.api}/api/v1/traces?${q}`);
  expect(status).toBe(200);
  return body.traces;
};
/** Waits until the project's five traces are searchable (the write is asynchronous to the OTLP answer). */
const settled = async (project: PyFixtureName): Promise<TraceInfoView[]> => {
  const want = loadPyFacts(project).traces.length;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const traces = await search(project);
    if (traces.length >= want || Date.now() > deadline) return traces;
    await new Promise((r) => setTimeout(r, 100));
  }
};
const detail = async (project: string, traceId: string): Promise<TraceDetailView> => {
  const { status, body } = await getJson<TraceDetailView>(`${t.api}/api/v1/traces/${traceId}?project=${project}`);
  expect(status).toBe(200);
  return body;
};
const isLlm = (s: SpanView): boolean => s.span_type === 'LLM' || s.span_type === 'CHAT_MODEL';
const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

describe.each(NAMES)('python capture %s', (name) => {
  const facts = loadPyFacts(name);

  it('lists every trace once with its state, tokens, session and user', async () => {
    const traces = await settled(name);
    expect(traces.map((x) => x.trace_id).sort()).toEqual(facts.traces.map((f) => f.trace_id).sort());
    for (const f of facts.traces) {
      const info = traces.find((x) => x.trace_id === f.trace_id) as TraceInfoView;
      expect(info.state).toBe(f.state);
      if (f.token_usage) expect(info.token_usage).toEqual(f.token_usage);
      // MLflow keeps session and user in trace metadata, which its OTLP export does not carry.
      if (name !== 'mlflow') {
        expect(info.session_id).toBe(f.session);
        expect(info.user_id).toBe(f.user);
      }
    }
  });

  it('previews the user message and the answer as text; a failed trace has no response preview', async () => {
    const traces = await settled(name);
    for (const f of facts.traces) {
      const info = traces.find((x) => x.trace_id === f.trace_id) as TraceInfoView;
      expect(info.request_preview).toContain(f.customer_name);
      expect(info.request_preview).not.toMatch(/^\[?\{"(role|lc|messages)"/);
      if (f.state === 'ERROR') expect(info.response_preview).toBe('');
      // With content sent as log events the spans hold none, and the preview is what the spans hold.
      else if (facts.log_count === 0) expect(info.response_preview).toContain(`Dear ${f.customer_name}`);
    }
  });

  it('types every span and names each LLM call’s model and provider', async () => {
    await settled(name);
    for (const f of facts.traces) {
      const d = await detail(name, f.trace_id);
      const root = d.spans.find((s) => s.parent_span_id === null) as SpanView;
      expect(root.span_type, root.name).not.toBe('UNKNOWN');
      const llm = d.spans.filter(isLlm);
      expect(llm.length, 'LLM spans').toBeGreaterThan(0);
      for (const s of llm) {
        expect(s.model, `${s.name} model`).toMatch(/^(gpt-4o-mini|error-model)/);
        expect((s.provider ?? '').toLowerCase(), `${s.name} provider`).toContain('openai');
      }
      expect(d.info.models, 'models').toHaveLength(1);
      for (const k of Object.keys(d.info.trace_metadata)) expect(k).not.toMatch(/^ls_/);
    }
  });
});

describe('what the Python captures showed (issue 13)', () => {
  it('finds content that arrived only as log events with trace.text', async () => {
    const facts = loadPyFacts('otel-v2-events');
    await settled('otel-v2-events');
    // The stub's answer is only in the gen_ai.client.inference.operation.details events of this capture.
    const found = await search('otel-v2-events', "trace.text ILIKE '%thank you for your time%'");
    expect(found.map((x) => x.trace_id).sort()).toEqual(
      facts.traces
        .filter((f) => f.state === 'OK')
        .map((f) => f.trace_id)
        .sort(),
    );
    const substring = await search('otel-v2-events', "trace.text = 'Dear TechStart'");
    expect(substring.map((x) => x.trace_id)).toEqual([facts.traces[1]!.trace_id]);
  });

  it('types the invoke_workflow root of the OTel app', async () => {
    const f = loadPyFacts('otel-v2-spans').traces[0]!;
    await settled('otel-v2-spans');
    const root = (await detail('otel-v2-spans', f.trace_id)).spans.find((s) => s.parent_span_id === null) as SpanView;
    expect(root.name).toBe('invoke_workflow generate_sales_email');
    expect(root.span_type).toBe('CHAIN');
  });

  it('gives the failed OpenInference LLM call its model from llm.invocation_parameters', async () => {
    const f = loadPyFacts('openinference-openai').traces.find((x) => x.state === 'ERROR')!;
    await settled('openinference-openai');
    const d = await detail('openinference-openai', f.trace_id);
    expect(d.spans.filter(isLlm).map((s) => s.model)).toEqual(['error-model']);
    expect(d.info.models).toEqual(['error-model']);
  });

  it('reads the LangChain LLM span’s plain messages, not LangChain’s serialization', async () => {
    const f = loadPyFacts('openinference-langchain').traces[0]!;
    await settled('openinference-langchain');
    const llm = (await detail('openinference-langchain', f.trace_id)).spans.filter(isLlm);
    expect(llm).toHaveLength(1);
    expect(text(llm[0]!.inputs)).not.toContain('"lc":');
    expect(llm[0]!.inputs).toEqual([
      { role: 'system', content: expect.stringContaining('sales representative') },
      { role: 'user', content: expect.stringContaining(f.user_instructions) },
    ]);
    expect(llm[0]!.outputs).toEqual([{ role: 'assistant', content: f.email }]);
  });
});

describe('the ingest report', () => {
  interface Report {
    conventions: Array<{
      convention: string;
      spans: number;
      llm_spans: number;
      llm_missing_model: number;
      llm_missing_tokens: number;
      llm_missing_content: number;
      unmapped_keys: Array<{ key: string; spans: number }>;
    }>;
    refused_since_start: unknown[];
  }
  const report = async (project: string, extra = ''): Promise<Report> => {
    const { status, body } = await getJson<Report>(`${t.api}/api/v1/ingest/report?project=${project}${extra}`);
    expect(status, JSON.stringify(body)).toBe(200);
    return body;
  };

  it('names the attribute keys of a capture that no mapping used, per convention', async () => {
    await settled('otel-v2-spans');
    const r = await report('otel-v2-spans');
    const genai = r.conventions.find((c) => c.convention === 'otel-genai')!;
    expect(genai.spans).toBe(loadPyFacts('otel-v2-spans').span_count);
    expect(genai.llm_spans).toBe(6);
    expect(genai.llm_missing_model).toBe(0);
    const keys = genai.unmapped_keys.map((k) => k.key);
    expect(keys).toEqual(expect.arrayContaining(['gen_ai.response.id', 'gen_ai.agent.name', 'gen_ai.request.max_tokens']));
    expect(keys).not.toContain('gen_ai.request.model');
    expect(keys).not.toContain('gen_ai.input.messages');

    // Indexed keys are grouped: one entry for every tool of every call.
    const lc = (await report('openinference-langchain')).conventions.find((c) => c.convention === 'openinference')!;
    expect(lc.unmapped_keys.map((k) => k.key)).toContain('llm.tools.*.tool.json_schema');
  });

  it('counts content sent as log events as content, and the write-time counters reach /metrics', async () => {
    await settled('otel-v2-events');
    const genai = (await report('otel-v2-events')).conventions.find((c) => c.convention === 'otel-genai')!;
    expect(genai.llm_spans).toBe(6);
    expect(genai.llm_missing_content).toBe(0);
    const metrics = await (await fetch(`${t.api}/metrics`)).text();
    expect(metrics).toMatch(/tracehouse_ingest_spans_total\{convention="otel-genai"\} \d+/);
    expect(metrics).toMatch(/tracehouse_ingest_unmapped_attributes_total\{convention="otel-genai"\} \d+/);
  });

  it('refuses a bad time range', async () => {
    const { status } = await getJson(`${t.api}/api/v1/ingest/report?project=x&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z`);
    expect(status).toBe(400);
  });
});
