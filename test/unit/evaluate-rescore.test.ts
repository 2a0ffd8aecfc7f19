import { describe, expect, it } from 'vitest';
import { toAssessment } from '../../src/evaluate/score-trace.js';
import { scorerAssessmentId } from '../../src/evaluate/sampling.js';
import { isoToNs, nsToIso, traceDetailView, traceRecordFromView } from '../../src/api/views.js';
import type { Scorer } from '../../src/evaluate/scorers/types.js';
import { assessmentRecord, spanRecord, START_NS, TRACE_ID, traceRecord, usage } from '../helpers/builders.js';

const scorer: Scorer = { name: 'relevance_to_query', version: '1', sourceType: 'LLM_JUDGE', sourceId: 'openai:/gpt-4.1-mini', score: async () => [] };
const traceId = TRACE_ID;

describe('re-scoring a trace', () => {
  it('reads back the nanosecond times the API writes', () => {
    for (const ns of [1_795_785_695_122_000_000n, 1_795_785_695_122_123_456n, 1_795_785_695_000_000_001n]) {
      expect(isoToNs(nsToIso(ns))).toBe(ns);
    }
  });

  it('rewrites the same assessment but keeps when it was first made', () => {
    const first = toAssessment('p', traceRecord(), scorer, { value: 'yes', rationale: 'first' });
    expect(first.assessmentId).toBe(scorerAssessmentId('p', traceId, scorer.name, '1'));
    const again = toAssessment('p', traceRecord({ assessments: [first] }), scorer, { value: 'no', rationale: 'second' });
    expect(again.assessmentId).toBe(first.assessmentId);
    expect(again.createdTimeNs).toBe(first.createdTimeNs);
    expect(again.version > first.version).toBe(true);
    expect(again.value).toBe('no');
  });

  it('keeps it too when the trace was read through the API (tracehouse evaluate)', () => {
    const first = toAssessment('p', traceRecord(), scorer, { value: 'yes', rationale: 'first' });
    const viaApi = traceRecordFromView(JSON.parse(JSON.stringify(traceDetailView(traceRecord({ assessments: [first] })))));
    const again = toAssessment('p', viaApi, scorer, { value: 'no', rationale: 'second' });
    expect(again.assessmentId).toBe(first.assessmentId);
    expect(again.createdTimeNs).toBe(first.createdTimeNs);
  });

  it('gets back from the API view what the scorers read of a trace', () => {
    const root = spanRecord({
      spanId: '00f067aa0ba902b7',
      name: 'chat',
      spanType: 'CHAIN',
      inputs: { q: 'refund?' },
      outputs: 'within 30 days',
      endTimeNs: START_NS + 1_234_567_891n,
    });
    const llm = spanRecord({
      spanId: 'c8be7c8279313344',
      parentSpanId: root.spanId,
      name: 'openai.chat',
      spanType: 'LLM',
      startTimeNs: START_NS + 1n,
      status: { code: 'ERROR', message: 'rate limited' },
      model: 'gpt-4o',
      usage: usage(10, 5),
      documents: [{ id: 'd1', content: 'Refunds within 30 days', score: 0.5, uri: null }],
      tool: { name: 'lookup', arguments: { id: 1 }, result: null },
      events: [{ name: 'exception', timeNs: (START_NS + 2n).toString(), attributes: { 'exception.message': 'rate limited' } }],
    });
    const expectation = assessmentRecord({
      assessmentId: 'a-1',
      name: 'expected_facts',
      kind: 'expectation',
      value: ['30 days'],
      createdTimeNs: START_NS + 123_000_001n,
    });
    const record = traceRecord({
      info: {
        project: 'p',
        tokenUsage: { input_tokens: 10, output_tokens: 5, total_tokens: 15 },
        models: ['gpt-4o'],
        assessments: { expected_facts: ['30 days'] },
      },
      spans: [root, llm],
      events: [{ spanId: llm.spanId, timeNs: START_NS + 3n, name: 'gen_ai.choice', body: { message: 'hi' }, attributes: { 'gen_ai.system': 'openai' } }],
      assessments: [{ ...expectation, project: 'p' }],
    });
    const view = traceDetailView(record);
    expect(traceRecordFromView(JSON.parse(JSON.stringify(view)))).toEqual(record);
    // Nested as `?tree=true` answers it, too.
    expect(
      traceRecordFromView({
        ...view,
        spans: [{ ...(view.spans[0] as (typeof view.spans)[number]), children: [view.spans[1] as (typeof view.spans)[number]] }],
      }),
    ).toEqual(record);
  });
});
