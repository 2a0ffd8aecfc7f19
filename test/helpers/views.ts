import type { SpanView } from '../../src/query/views.js';

/** A SpanView for scorer and judge tests: every field empty unless given. */
export function spanView(p: Partial<SpanView> & Pick<SpanView, 'trace_id' | 'span_id' | 'name' | 'span_type'>): SpanView {
  return {
    parent_span_id: null,
    kind: 'INTERNAL',
    start_time_ns: '1700000000000000000',
    end_time_ns: '1700000001000000000',
    status: { code: 'OK', message: '' },
    inputs: null,
    outputs: null,
    model: null,
    provider: null,
    token_usage: null,
    cost: null,
    session_id: null,
    user_id: null,
    documents: [],
    tool: null,
    attributes: {},
    resource_attributes: {},
    events: [],
    ...p,
  };
}
