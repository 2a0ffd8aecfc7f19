import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fixtureSpans, loadFacts } from '../helpers/fixtures.js';
import { exportSpans } from '../helpers/exporters.js';
import { getJson, startTestApp, type TestApp } from '../helpers/app.js';
import { isolatedKafka, waitForGroupCaughtUp } from '../helpers/kafka.js';
import type { AssessmentView } from '../../src/api/views.js';

const brokers = inject('kafkaBrokers');

/** The evaluator as its own consumer group on the spans topic. */
describe.skipIf(!brokers)('evaluator on the Kafka bus', () => {
  let t: TestApp;
  let bus: Record<string, unknown>;
  beforeAll(async () => {
    bus = isolatedKafka(brokers);
    t = await startTestApp({
      overrides: {
        ...bus,
        'evaluator.settle_ms': 300,
        'evaluator.scorers': [{ type: 'error_free' }, { type: 'latency', max_ms: 60_000 }],
      },
    });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('scores every trace once it settles and commits its offsets only after', async () => {
    const facts = loadFacts('mlflow');
    expect((await exportSpans('proto', { http: t.otlpHttp, grpc: t.otlpGrpc }, fixtureSpans('mlflow'), 'k-eval')).code).toBe(0);
    const assessmentsOf = async (id: string): Promise<AssessmentView[]> =>
      (await getJson<{ assessments: AssessmentView[] }>(`${t.api}/api/v1/traces/${id}/assessments?project=k-eval`)).body.assessments;
    const deadline = Date.now() + 60_000;
    for (const f of facts.traces) {
      let got: AssessmentView[] = [];
      while (Date.now() < deadline) {
        got = await assessmentsOf(f.trace_id);
        if (got.length >= 2) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const byName = Object.fromEntries(got.map((a) => [a.name, a]));
      expect(Object.keys(byName).sort()).toEqual(['error_free', 'latency']);
      expect(byName.error_free?.value).toBe(f.state === 'OK');
      expect(byName.error_free?.source).toEqual({ source_type: 'CODE', source_id: 'tracehouse:error_free' });
    }
    // Everything scored: the evaluator's group has committed up to the end of the topic.
    await waitForGroupCaughtUp(brokers, bus['bus.kafka.evaluator_group'] as string, [bus['bus.kafka.topics.spans'] as string], 30_000);
  });
});
