import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSpans } from '../helpers/exporters.js';
import { fixtureSpans } from '../helpers/fixtures.js';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

/** Malformed API input gets a 400 (or 431) with our JSON error, never a 500 or Node's bare answer. */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  expect((await exportSpans('proto', { http: t.otlpHttp, grpc: t.otlpGrpc }, fixtureSpans('mlflow'), 'bad-input')).code).toBe(0);
});
afterAll(async () => {
  await t?.stop();
  if (t) removeDir(t.dataDir);
});

async function get(path: string): Promise<{ status: number; body: { error?: { code: string; message: string } } & Record<string, unknown> }> {
  const res = await fetch(`${t.api}${path}`);
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
}

const search = (filter: string, extra = ''): string => `/api/v1/traces?project=bad-input&filter=${encodeURIComponent(filter)}${extra}`;

describe('malformed API input', () => {
  it('compares with numbers past 2^53 written with an exponent', async () => {
    const all = await get(search('trace.timestamp_ms < 1e16'));
    expect(all.status).toBe(200);
    expect((all.body.traces as unknown[]).length).toBe(5);
    const none = await get(search('trace.execution_time_ms > 1e300'));
    expect(none.status).toBe(200);
    expect(none.body.traces).toEqual([]);
  });

  it('refuses a forged page token with a huge offset', async () => {
    const forged = Buffer.from(JSON.stringify({ o: 1e300, f: 0 })).toString('base64url');
    const r = await get(`/api/v1/traces?project=bad-input&page_token=${forged}`);
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('INVALID_PAGE_TOKEN');
  });

  it('refuses malformed percent-encoding in a path', async () => {
    for (const path of ['/api/v1/traces/%zz', '/api/v1/traces/%zz/assessments']) {
      const r = await get(path);
      expect(r.status, path).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'INVALID_PARAMETER', message: 'trace_id: malformed percent-encoding in the path' });
    }
  });

  it('answers an over-long URL with a JSON 431', async () => {
    const r = await get(search(`trace.name IN (${Array.from({ length: 2_000 }, (_, i) => `'name-${i}'`).join(', ')})`));
    expect(r.status).toBe(431);
    expect(r.body.error?.code).toBe('HEADERS_TOO_LARGE');
  });

  it('says in its own words that an RLIKE pattern does not compile', async () => {
    const r = await get(search("trace.name RLIKE '('"));
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_FILTER', message: 'invalid regular expression: RE2 cannot compile a pattern of the filter' });
    expect(JSON.stringify(r.body)).not.toContain('DB::Exception');
  });
});
