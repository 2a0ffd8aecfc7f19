import { afterAll, describe, expect, inject, it } from 'vitest';
import { fixtureSpans, loadFacts } from '../helpers/fixtures.js';
import { exportSpans } from '../helpers/exporters.js';
import { getJson, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { isolatedKafka, testKafka } from '../helpers/kafka.js';
import type { AssessmentView, TraceInfoView } from '../../src/api/views.js';

const brokers = inject('kafkaBrokers');

let t: TestApp | null = null;
let dataDir = '';
afterAll(async () => {
  await t?.stop();
  if (dataDir) removeDir(dataDir);
});

/**
 * Offsets of traces not yet scored are not committed: a restart reads them again and scores them, so a
 * crash or a stop never skips a sampled trace.
 */
describe.skipIf(!brokers)('evaluator offsets on Kafka', () => {
  it('holds back commits while traces wait to be scored, and scores them after a restart', async () => {
    const bus = isolatedKafka(brokers);
    const scorers = [{ type: 'error_free' }];
    // A settle time far beyond the test: nothing gets scored by the first instance.
    t = await startTestApp({ overrides: { ...bus, 'evaluator.settle_ms': 600_000, 'evaluator.max_wait_ms': 600_000, 'evaluator.scorers': scorers } });
    dataDir = t.dataDir;
    expect((await exportSpans('proto', { http: t.otlpHttp, grpc: t.otlpGrpc }, fixtureSpans('traceloop'), 'k-restart')).code).toBe(0);
    const facts = loadFacts('traceloop');
    // Wait until the writer stored everything, then give the evaluator's commit timer a few rounds.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await getJson<{ traces: TraceInfoView[] }>(`${t.api}/api/v1/traces?project=k-restart`);
      if (r.body.traces.reduce((n, x) => n + x.span_count, 0) >= facts.span_count || Date.now() > deadline) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    await new Promise((res) => setTimeout(res, 3_000));

    const admin = testKafka(brokers).admin();
    await admin.connect();
    const spansTopic = bus['bus.kafka.topics.spans'] as string;
    const ends = await admin.fetchTopicOffsets(spansTopic);
    const committedSum = async (): Promise<number> => {
      const [c] = await admin.fetchOffsets({ groupId: bus['bus.kafka.evaluator_group'] as string, topics: [spansTopic] });
      return (c?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    };
    const total = ends.reduce((n, p) => n + Number(p.high), 0);
    expect(total).toBeGreaterThan(0);
    expect(await committedSum()).toBe(0);
    await t.stop();
    // A graceful stop commits what is done: still nothing.
    expect(await committedSum()).toBe(0);

    t = await startTestApp({ dataDir, overrides: { ...bus, 'evaluator.settle_ms': 300, 'evaluator.scorers': scorers } });
    const app = t;
    const scored = async (): Promise<number> => {
      let n = 0;
      for (const f of facts.traces) {
        const r = await getJson<{ assessments: AssessmentView[] }>(`${app.api}/api/v1/traces/${f.trace_id}/assessments?project=k-restart`);
        n += r.body.assessments.filter((a) => a.name === 'error_free').length;
      }
      return n;
    };
    const until = Date.now() + 60_000;
    while ((await scored()) < facts.traces.length && Date.now() < until) await new Promise((res) => setTimeout(res, 300));
    expect(await scored()).toBe(facts.traces.length);
    const end = Date.now() + 20_000;
    while ((await committedSum()) < total && Date.now() < end) await new Promise((res) => setTimeout(res, 300));
    expect(await committedSum()).toBe(total);
    await admin.disconnect();
  });
});
