import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { BOOTSTRAP_KEY, createKey, waitFor } from '../helpers/auth.js';
import { isolatedKafka, readTopic } from '../helpers/kafka.js';
import { protobufBody, syntheticTrace } from '../helpers/synthetic.js';

const brokers = inject('kafkaBrokers');

/** On Kafka the receiver stamps the key's project on each message, whatever the request said. */
describe.skipIf(!brokers)('API keys on the Kafka bus', () => {
  let t: TestApp;
  let bus: Record<string, unknown>;
  beforeAll(async () => {
    bus = isolatedKafka(brokers);
    t = await startTestApp({ overrides: { ...bus, 'auth.mode': 'required', 'auth.bootstrap_admin_key': BOOTSTRAP_KEY } });
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('stamps the authenticated project in the tracehouse-project header and the writer stores it there', async () => {
    const { secret } = await createKey(t.api, BOOTSTRAP_KEY, { project: 'stamped', scopes: ['ingest', 'read'] });
    const spans = syntheticTrace(1).spans.map((s) => ({ ...s, resource: resourceFromAttributes({ 'service.name': 'kafka-auth' }) }));
    const res = await fetch(`${t.otlpHttp}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${secret}` },
      body: protobufBody(spans),
    });
    expect(res.status).toBe(200);
    const msgs = await readTopic(brokers, bus['bus.kafka.topics.spans'] as string, 1);
    expect(msgs.map((m) => m.headers['tracehouse-project'])).toEqual(['stamped']);
    await waitFor(
      async () => {
        const r = await fetch(`${t.api}/api/v1/traces`, { headers: { authorization: `Bearer ${secret}` } });
        return ((await r.json()) as { traces: unknown[] }).traces.length === 1;
      },
      'the trace in project stamped',
      60_000,
    );
  }, 120_000);
});
