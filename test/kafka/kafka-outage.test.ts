import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { KAFKA_SCRIPT, startLocalKafka } from '../setup/kafka.js';
import { retry } from '../../src/component/retry.js';
import { getJson, startTestApp, type TestApp } from '../helpers/app.js';
import { isolatedKafka } from '../helpers/kafka.js';
import { protobufBody, syntheticTrace } from '../helpers/synthetic.js';
import type { TraceInfoView } from '../../src/api/views.js';

const run = promisify(execFile);
// This test stops and restarts a broker, so it runs its own instead of the shared one.
const enabled = Boolean(inject('kafkaBrokers'));

let local: Awaited<ReturnType<typeof startLocalKafka>> | null = null;
let t: TestApp | null = null;
const cleanUp = async (): Promise<void> => {
  await t?.stop();
  await local?.stop();
  t = null;
  local = null;
};
afterAll(cleanUp);

describe.skipIf(!enabled)('Kafka outage', () => {
  // Both receiver clients: librdkafka queues and retries on its own threads, and must answer the same way.
  for (const client of ['kafkajs', 'librdkafka'] as const)
    it(`answers retryable errors while Kafka is down; retried data lands once Kafka returns, nothing acknowledged is lost (${client})`, async () => {
      await cleanUp();
      local = await startLocalKafka();
      const port = local.brokers.split(':')[1] as string;
      t = await startTestApp({ overrides: isolatedKafka(local.brokers, { 'bus.kafka.produce_timeout_ms': 2_000, 'bus.kafka.client': client }) });
      const app = t;

      const traces = Array.from({ length: 240 }, (_, i) => syntheticTrace(i));
      const statuses = new Map<number, number>();
      const acked = new Set<string>();
      let next = 0;
      let outageStarted = false;
      const outage = { stopped: Promise.resolve(), restarted: Promise.resolve() };
      // A broker that cannot come back fails the test at once instead of leaving the exporters retrying.
      let restartFailed: unknown = null;

      // A client that behaves like an OTLP exporter: retries 503 (honouring Retry-After, capped), never drops.
      const exporter = async (): Promise<void> => {
        while (next < traces.length) {
          const i = next++;
          const trace = traces[i] as ReturnType<typeof syntheticTrace>;
          for (let attempt = 0; ; attempt++) {
            const res = await fetch(`${app.otlpHttp}/v1/traces`, {
              method: 'POST',
              headers: { 'content-type': 'application/x-protobuf', 'x-tracehouse-project': 'outage' },
              body: protobufBody(trace.spans),
            });
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            if (res.status === 200) {
              acked.add(trace.traceId);
              break;
            }
            expect(res.status).toBe(503);
            expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
            if (restartFailed) throw restartFailed;
            if (attempt > 200) throw new Error('gave up retrying');
            await new Promise((r) => setTimeout(r, 500));
          }
          if (acked.size === 60 && !outageStarted) {
            outageStarted = true;
            const dir = local?.dir as string;
            outage.stopped = run('bash', [KAFKA_SCRIPT, 'stop', '--dir', dir]).then(() => undefined);
            // Down for a while, then back on the same port and data. The port was free for the outage, so
            // another test's socket may hold it for a moment (a busy CI once saw the broker exit while
            // starting): a start that fails is tried again, 4 tries in all.
            const restart = (): Promise<unknown> =>
              retry(() => run('bash', [KAFKA_SCRIPT, 'start', '--dir', dir, '--port', port]), { backoff: { baseMs: 2_000, maxMs: 4_000 }, maxRetries: 3 });
            outage.restarted = outage.stopped
              .then(() => new Promise((r) => setTimeout(r, 6_000)))
              .then(restart)
              .then(() => undefined);
            outage.restarted.catch((err: unknown) => {
              restartFailed = err;
            });
          }
        }
      };
      await Promise.all([exporter(), exporter(), exporter()]);
      await outage.restarted;

      expect(outageStarted).toBe(true);
      expect(statuses.get(503) ?? 0, 'some requests were refused as retryable during the outage').toBeGreaterThan(0);
      expect([...statuses.keys()].sort()).toEqual([200, 503]);
      expect(acked.size).toBe(traces.length);

      const deadline = Date.now() + 90_000;
      let found: TraceInfoView[] = [];
      while (Date.now() < deadline) {
        found = (await getJson<{ traces: TraceInfoView[] }>(`${app.api}/api/v1/traces?project=outage&max_results=1000`)).body.traces;
        if (found.length >= acked.size) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const ids = found.map((x) => x.trace_id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(new Set(ids)).toEqual(acked);
      for (const x of found) expect(x.span_count).toBe(3);
    }, 240_000);
});
