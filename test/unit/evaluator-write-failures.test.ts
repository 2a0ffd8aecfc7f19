import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AssessmentRecord } from '../../src/assessments/model.js';
import type { AssessmentStore } from '../../src/assessments/store.js';
import type { IngestBatch } from '../../src/component/consumer.js';
import { pipelineError } from '../../src/component/errors.js';
import { Metrics } from '../../src/component/telemetry/metrics.js';
import { Evaluator } from '../../src/evaluate/evaluator.js';
import type { Scorer } from '../../src/evaluate/scorers/types.js';
import { decodeTraceRequest } from '../../src/otlp/decode.js';
import type { TraceReader } from '../../src/query/trace-reader.js';
import { traceRecord } from '../helpers/builders.js';
import { protobufBody, syntheticTrace } from '../helpers/synthetic.js';

/** A store stand-in whose insert fails with the given errors in turn, then stores. */
class ScriptedStore {
  calls = 0;
  stored: AssessmentRecord[] = [];
  constructor(private readonly failures: Error[]) {}
  async insert(records: readonly AssessmentRecord[]): Promise<void> {
    const err = this.failures[this.calls++];
    if (err) throw err;
    this.stored.push(...records);
  }
}

const scorer: Scorer = {
  name: 'always_yes',
  version: '1',
  sourceType: 'CODE',
  sourceId: 'test',
  score: async () => [{ value: 'yes', rationale: 'because' }],
};

function setup(store: ScriptedStore): { ev: Evaluator<number>; metrics: Metrics; logs: string[]; batch: IngestBatch } {
  const t = syntheticTrace(0);
  const req = decodeTraceRequest(protobufBody(t.spans), 'protobuf');
  const batch: IngestBatch = {
    spans: req.resourceSpans.flatMap((rs) => rs.scopeSpans.map((ss) => ({ project: 'p', resource: rs.resource, scope: ss.scope, spans: ss.spans }))),
    logs: [],
  };
  const detail = traceRecord({ info: { traceId: t.traceId, spanCount: t.spans.length } });
  const reader = { getTraceRecord: async () => detail, matches: async () => true } as unknown as TraceReader;
  const logs: string[] = [];
  const log = pino(
    { level: 'warn' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString());
        done();
      },
    }),
  );
  const metrics = new Metrics();
  const ev = new Evaluator<number>(
    { settle_ms: 0, max_wait_ms: 60_000, max_pending_traces: 100, concurrency: 2 },
    { reader, store: store as unknown as AssessmentStore, scorers: [{ scorer, sampleRate: 1, filter: '' }], metrics, log },
  );
  ev.storeWaitTries = 0;
  return { ev, metrics, logs, batch };
}

/** Waits (bounded) until the evaluator has nothing scheduled or waiting; a condition, not a duration. */
async function idle(ev: Evaluator<number>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((ev.busy > 0 || ev.outstandingPositions().length > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

const refusedCount = async (metrics: Metrics): Promise<number> =>
  (await metrics.evalAssessmentsRefused.get()).values.find((v) => v.labels.scorer === 'always_yes')?.value ?? 0;

describe('evaluator: assessment writes that fail', () => {
  it('does not retry verdicts the store refused as invalid: counts them, logs them and lets the trace go', async () => {
    const store = new ScriptedStore([pipelineError('STORE_REJECTED', 'store rejected the data: Cannot parse input')]);
    const { ev, metrics, logs, batch } = setup(store);
    const scored: string[] = [];
    ev.onScored = (t) => scored.push(t.traceId);
    ev.observe(batch, 7);
    ev.start(5);
    await idle(ev);
    await ev.shutdown(1_000);
    expect(store.calls).toBe(1);
    expect(store.stored).toEqual([]);
    expect(await refusedCount(metrics)).toBe(1);
    // Not held back: the Kafka evaluator may commit past it.
    expect(ev.outstandingPositions()).toEqual([]);
    expect(scored).toHaveLength(1);
    const line = logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'evaluator: scoring failed permanently; not retried');
    expect(line).toMatchObject({ code: 'STORE_REJECTED', trace_id: scored[0] });
  });

  it('retries verdicts while the store is unavailable, and stores them when it is back', async () => {
    const store = new ScriptedStore([pipelineError('STORE_UNAVAILABLE', 'store unavailable: connect ECONNREFUSED')]);
    const { ev, metrics, batch } = setup(store);
    ev.observe(batch, 7);
    ev.start(5);
    await idle(ev);
    await ev.shutdown(1_000);
    expect(store.calls).toBe(2);
    expect(store.stored.map((r) => r.name)).toEqual(['always_yes']);
    expect(await refusedCount(metrics)).toBe(0);
  });
});
