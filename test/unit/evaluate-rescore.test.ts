import { describe, expect, it } from 'vitest';
import { toAssessment } from '../../src/evaluate/score-trace.js';
import { scorerAssessmentId } from '../../src/evaluate/sampling.js';
import { isoToNs, nsToIso, type TraceDetailView } from '../../src/query/views.js';
import type { Scorer } from '../../src/evaluate/scorers/types.js';

const scorer: Scorer = { name: 'relevance_to_query', version: '1', sourceType: 'LLM_JUDGE', sourceId: 'openai:/gpt-4.1-mini', score: async () => [] };
const traceId = '0af7651916cd43dd8448eb211c80319c';
const trace = (assessments: TraceDetailView['assessments']): TraceDetailView =>
  ({ info: { trace_id: traceId }, spans: [], assessments }) as unknown as TraceDetailView;

describe('re-scoring a trace', () => {
  it('reads back the nanosecond times the API writes', () => {
    for (const ns of [1_795_785_695_122_000_000n, 1_795_785_695_122_123_456n, 1_795_785_695_000_000_001n]) {
      expect(isoToNs(nsToIso(ns))).toBe(ns);
    }
  });

  it('rewrites the same assessment but keeps when it was first made', () => {
    const first = toAssessment('p', trace([]), scorer, { value: 'yes', rationale: 'first' });
    expect(first.assessmentId).toBe(scorerAssessmentId('p', traceId, scorer.name, '1'));
    const again = toAssessment(
      'p',
      trace([
        {
          assessment_id: first.assessmentId,
          trace_id: traceId,
          span_id: null,
          name: scorer.name,
          kind: 'feedback',
          value: 'yes',
          rationale: 'first',
          source: { source_type: 'LLM_JUDGE', source_id: scorer.sourceId },
          error: null,
          metadata: {},
          create_time: nsToIso(first.createdTimeNs),
          last_update_time: nsToIso(first.lastUpdatedTimeNs),
          valid: true,
          overrides: null,
        },
      ]),
      scorer,
      { value: 'no', rationale: 'second' },
    );
    expect(again.assessmentId).toBe(first.assessmentId);
    expect(again.createdTimeNs).toBe(first.createdTimeNs);
    expect(again.version > first.version).toBe(true);
    expect(again.value).toBe('no');
  });
});
