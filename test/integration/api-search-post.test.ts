import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureSpans } from '../helpers/fixtures.js';
import { exportSpans } from '../helpers/exporters.js';
import { getJson, startTestApp, type TestApp } from '../helpers/app.js';
import type { TraceInfoView } from '../../src/api/views.js';

/** POST /api/v1/traces/search: the GET search's parameters as a JSON body, for filters too long for a URL. */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  const r = await exportSpans('proto', { http: t.otlpHttp, grpc: t.otlpGrpc }, fixtureSpans('traceloop'), 'post-search');
  expect(r.code).toBe(0);
});
afterAll(async () => {
  await t?.stop();
});

const search = (body: unknown, contentType = 'application/json'): Promise<Response> =>
  fetch(`${t.api}/api/v1/traces/search`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

type Page = { traces: TraceInfoView[]; next_page_token: string | null };

describe('POST /api/v1/traces/search', () => {
  it('answers as the GET search does for the same parameters', async () => {
    const get = await getJson<Page>(`${t.api}/api/v1/traces?project=post-search&max_results=2&order_by=timestamp_ms%20DESC`);
    const res = await search({ project: 'post-search', max_results: 2, order_by: ['timestamp_ms DESC'] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Page;
    expect(body.traces.map((x) => x.trace_id)).toEqual(get.body.traces.map((x) => x.trace_id));
    expect(body.traces.length).toBeGreaterThan(0);
    // The next page through the body too.
    if (body.next_page_token) {
      const next = await search({ project: 'post-search', max_results: 2, order_by: 'timestamp_ms DESC', page_token: body.next_page_token });
      expect(next.status).toBe(200);
    }
  });

  it('takes a filter with an IN list far longer than a URL may be', async () => {
    const all = (await getJson<Page>(`${t.api}/api/v1/traces?project=post-search`)).body.traces;
    const names = all.map((x) => x.name).filter(Boolean);
    const list = [...Array.from({ length: 3000 }, (_, i) => `no-such-span-name-${i}`), ...names];
    const filter = `span.name IN (${list.map((n) => `'${n.replace(/'/g, "\\'")}'`).join(', ')})`;
    expect(filter.length).toBeGreaterThan(16 * 1024);
    const res = await search({ project: 'post-search', filter, from: 0 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Page;
    expect(body.traces.length).toBeGreaterThan(0);
  });

  it.each([
    ['not JSON', '{"project": ', 'application/json', 400, 'INVALID_PARAMETER'],
    ['an unknown parameter', { project: 'post-search', bogus: 1 }, 'application/json', 400, 'INVALID_PARAMETER'],
    ['a wrong type', { max_results: '10' }, 'application/json', 400, 'INVALID_PARAMETER'],
    ['max_results out of range', { max_results: 100000 }, 'application/json', 400, 'INVALID_PARAMETER'],
    ['a bad time', { from: 'yesterday-ish' }, 'application/json', 400, 'INVALID_PARAMETER'],
    ['a forged page token', { page_token: 'eyJvIjo5OTk5OTk5OTk5OTk5OTk5OTk5OSwiZiI6MH0' }, 'application/json', 400, 'INVALID_PAGE_TOKEN'],
    ['a filter syntax error', { filter: 'span.name IN (' }, 'application/json', 400, 'INVALID_FILTER'],
    ['another content type', { project: 'post-search' }, 'text/plain', 400, 'INVALID_PARAMETER'],
    ['an array body', [1, 2], 'application/json', 400, 'INVALID_PARAMETER'],
  ])('answers %s with a clean error', async (_what, body, type, status, code) => {
    const res = await search(body, type);
    expect(res.status).toBe(status);
    const json = (await res.json()) as { error: { code: string; message: string } };
    expect(json.error.code).toBe(code);
    expect(json.error.message.length).toBeLessThan(1000);
  });

  it('refuses a body over the limit with 413', async () => {
    const res = await search({ filter: `span.name = '${'x'.repeat(2 * 1024 * 1024)}'` });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
  });
});
