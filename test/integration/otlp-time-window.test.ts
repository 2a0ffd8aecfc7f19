import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { protobufBody, syntheticTrace } from '../helpers/synthetic.js';

/** A 200 never hides spans the store would not keep: those are refused through partial success. */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ overrides: { 'store.retention_days': 30 } });
});
afterAll(async () => {
  await t?.stop();
  if (t) removeDir(t.dataDir);
});

describe('OTLP spans outside the retention window', () => {
  it('are refused with a message that says why, and the rest are stored', async () => {
    const fresh = syntheticTrace(1);
    const old = syntheticTrace(2, Date.now() - 40 * 86_400_000);
    const future = syntheticTrace(3, 9_000_000_000_000); // 9e18 ns: "2255" that the 32-bit TTL wraps into the past
    const res = await fetch(`${t.otlpHttp}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', accept: 'application/json', 'x-tracehouse-project': 'window' },
      body: protobufBody([...fresh.spans, ...old.spans, ...future.spans]),
    });
    expect(res.status).toBe(200);
    const { ExportTraceServiceResponse } = await import('../../src/otlp/proto.js');
    const answer = ExportTraceServiceResponse.decode(Buffer.from(await res.arrayBuffer())).toJSON() as {
      partialSuccess?: { rejectedSpans?: string | number; errorMessage?: string };
    };
    expect(Number(answer.partialSuccess?.rejectedSpans)).toBe(6);
    expect(answer.partialSuccess?.errorMessage).toMatch(/^6 span\(s\) start outside the times the store keeps \(between .* \(retention_days = 30\) and /);

    const found = await getJson<{ spans: unknown[] }>(`${t.api}/api/v1/traces/${fresh.traceId}?project=window`);
    expect(found.status).toBe(200);
    expect(found.body.spans).toHaveLength(3);
    for (const id of [old.traceId, future.traceId]) expect((await getJson(`${t.api}/api/v1/traces/${id}?project=window`)).status).toBe(404);
  });
});
