/** Store records built by hand for scorer, judge and evaluator tests: every field empty unless given. */
import type { AssessmentRecord } from '../../src/assessments/model.js';
import type { SpanRecord, TraceInfoRecord, TraceRecord } from '../../src/query/records.js';

export const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
/** 2023-11-14T22:13:20Z, where the hand-built traces start. */
export const START_NS = 1_700_000_000_000_000_000n;

export function spanRecord(p: Partial<SpanRecord> & Pick<SpanRecord, 'spanId' | 'name' | 'spanType'>): SpanRecord {
  return {
    traceId: TRACE_ID,
    parentSpanId: '',
    kind: 'INTERNAL',
    startTimeNs: START_NS,
    endTimeNs: START_NS + 1_000_000_000n,
    status: { code: 'OK', message: '' },
    inputs: null,
    outputs: null,
    model: '',
    provider: '',
    usage: null,
    cost: null,
    sessionId: '',
    userId: '',
    documents: [],
    tool: null,
    attributes: {},
    resourceAttributes: {},
    events: [],
    ...p,
  };
}

/** Token usage as a span reports it (no cache or reasoning counts). */
export const usage = (input: number, output: number, total = input + output): SpanRecord['usage'] => ({
  input_tokens: input,
  output_tokens: output,
  total_tokens: total,
  cache_read_tokens: null,
  reasoning_tokens: null,
});

/** A finished trace of the given spans; its summary says what `info` says, else what a plain OK trace would. */
export function traceRecord(
  o: { info?: Partial<TraceInfoRecord>; spans?: SpanRecord[]; events?: TraceRecord['events']; assessments?: AssessmentRecord[] } = {},
): TraceRecord {
  const spans = o.spans ?? [];
  const root = spans.find((s) => s.parentSpanId === '');
  return {
    info: {
      traceId: root?.traceId ?? TRACE_ID,
      project: 'default',
      name: root?.name ?? '',
      requestTimeNs: root?.startTimeNs ?? START_NS,
      executionDurationNs: root ? root.endTimeNs - root.startTimeNs : 0n,
      state: root?.status.code === 'ERROR' ? 'ERROR' : 'OK',
      requestPreview: '',
      responsePreview: '',
      serviceName: '',
      sessionId: '',
      userId: '',
      tags: {},
      metadata: {},
      tokenUsage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 },
      models: [],
      spanCount: spans.length,
      assessments: {},
      ...o.info,
    },
    spans,
    events: o.events ?? [],
    assessments: o.assessments ?? [],
  };
}

/** One current assessment version, created (and last changed) at `createdTimeNs`. */
export function assessmentRecord(p: Partial<AssessmentRecord> & Pick<AssessmentRecord, 'assessmentId' | 'name' | 'kind' | 'value'>): AssessmentRecord {
  const created = p.createdTimeNs ?? START_NS;
  return {
    project: 'default',
    traceId: TRACE_ID,
    version: created,
    spanId: '',
    rationale: '',
    sourceType: 'HUMAN',
    sourceId: 'reviewer',
    error: '',
    metadata: {},
    createdTimeNs: created,
    lastUpdatedTimeNs: created,
    valid: true,
    deleted: false,
    overrides: '',
    ...p,
  };
}
