import { randomBytes } from 'node:crypto';
import type { HrTime } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

const resource = resourceFromAttributes({ 'service.name': 'synthetic-genai-app' });
const scope = { name: 'synthetic', version: '1.0.0' };
const hr = (ms: number): HrTime => [Math.floor(ms / 1000), (ms % 1000) * 1_000_000];

/** A small GenAI trace (agent → retrieval + chat) with a fresh trace id. */
export function syntheticTrace(i: number, nowMs = Date.now()): { traceId: string; spans: ReadableSpan[] } {
  const traceId = randomBytes(16).toString('hex');
  const ids = [0, 1, 2].map(() => randomBytes(8).toString('hex'));
  const mk = (n: number, name: string, parent: string | null, attributes: ReadableSpan['attributes']): ReadableSpan => {
    const ctx = { traceId, spanId: ids[n] as string, traceFlags: 1 };
    return {
      name,
      kind: n === 2 ? 2 : 0,
      spanContext: () => ctx,
      parentSpanContext: parent ? { traceId, spanId: parent, traceFlags: 1 } : undefined,
      startTime: hr(nowMs - 50 + n),
      endTime: hr(nowMs - (n === 0 ? 0 : 10)),
      duration: hr(40),
      status: { code: 0 },
      attributes,
      links: [],
      events: [],
      ended: true,
      resource,
      instrumentationScope: scope,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  };
  return {
    traceId,
    spans: [
      mk(0, 'invoke_agent sales', null, {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: `request ${i}` }] }]),
      }),
      mk(1, 'retrieval crm', ids[0] as string, {
        'gen_ai.operation.name': 'retrieval',
        'gen_ai.retrieval.documents': JSON.stringify([{ id: `d${i}`, content: 'doc', score: 0.5 }]),
      }),
      mk(2, 'chat gpt-4o-mini', ids[0] as string, {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.usage.input_tokens': 10,
        'gen_ai.usage.output_tokens': 5,
      }),
    ],
  };
}

export const protobufBody = (spans: ReadableSpan[]): Buffer => Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array);
