import { afterAll, describe, expect, it } from 'vitest';
import { fixtureSpans, loadFacts } from '../helpers/fixtures.js';
import { exportSpans } from '../helpers/exporters.js';
import { getJson, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import type { TraceInfoView } from '../../src/api/views.js';

let dataDir = '';
afterAll(() => {
  if (dataDir) removeDir(dataDir);
});

describe('restart', () => {
  it('finds acknowledged traces again after the process restarts on the same data directory', async () => {
    let t: TestApp = await startTestApp();
    dataDir = t.dataDir;
    const r = await exportSpans('proto', { http: t.otlpHttp, grpc: t.otlpGrpc }, fixtureSpans('traceloop'), 'restart');
    expect(r.code).toBe(0);
    await t.stop();

    t = await startTestApp({ dataDir });
    try {
      const { body } = await getJson<{ traces: TraceInfoView[] }>(`${t.api}/api/v1/traces?project=restart`);
      expect(body.traces.map((x) => x.trace_id).sort()).toEqual(
        loadFacts('traceloop')
          .traces.map((f) => f.trace_id)
          .sort(),
      );
      expect(body.traces.reduce((n, x) => n + x.span_count, 0)).toBe(loadFacts('traceloop').span_count);
    } finally {
      await t.stop();
    }
  });
});
