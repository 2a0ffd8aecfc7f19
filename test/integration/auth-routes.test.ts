import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteAuth } from '../../src/api/server.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { BOOTSTRAP_KEY, createKey, revokeKey, waitFor, type CreatedKey } from '../helpers/auth.js';
import { grpcExport } from '../helpers/grpc.js';
import { protobufBody, syntheticTrace } from '../helpers/synthetic.js';

/**
 * Every route of the API and both OTLP transports, refused with the right status for each kind of bad
 * credential, with nothing written. A route added without an example below fails the first test: give
 * it an auth rule (`Route.auth`) and an example request here.
 */
const TRACE = '0af7651916cd43dd8448eb211c80319c';
const ASSESSMENT = { name: 'quality', kind: 'feedback', value: 'good' };
const EXAMPLES: Record<string, { path: string; body?: unknown }> = {
  'GET ^\\/api\\/v1\\/traces$': { path: '/api/v1/traces?project=a' },
  'GET ^\\/api\\/v1\\/traces\\/([^/]+)$': { path: `/api/v1/traces/${TRACE}?project=a` },
  'POST ^\\/api\\/v1\\/traces\\/search$': { path: '/api/v1/traces/search', body: { project: 'a' } },
  'GET ^\\/api\\/v1\\/evaluator\\/status$': { path: '/api/v1/evaluator/status?project=a' },
  'GET ^\\/(?!api(?:\\/|$))(.*)$': { path: '/' },
  'GET ^\\/api\\/v1\\/assessments$': { path: '/api/v1/assessments?project=a' },
  'POST ^\\/api\\/v1\\/traces\\/([^/]+)\\/assessments$': { path: `/api/v1/traces/${TRACE}/assessments?project=a`, body: ASSESSMENT },
  'PUT ^\\/api\\/v1\\/traces\\/([^/]+)\\/assessments\\/([^/]+)$': { path: `/api/v1/traces/${TRACE}/assessments/a-1?project=a`, body: ASSESSMENT },
  'GET ^\\/api\\/v1\\/traces\\/([^/]+)\\/assessments$': { path: `/api/v1/traces/${TRACE}/assessments?project=a` },
  'GET ^\\/api\\/v1\\/traces\\/([^/]+)\\/assessments\\/([^/]+)$': { path: `/api/v1/traces/${TRACE}/assessments/a-1?project=a` },
  'PATCH ^\\/api\\/v1\\/traces\\/([^/]+)\\/assessments\\/([^/]+)$': { path: `/api/v1/traces/${TRACE}/assessments/a-1?project=a`, body: { value: 'bad' } },
  'DELETE ^\\/api\\/v1\\/traces\\/([^/]+)\\/assessments\\/([^/]+)$': { path: `/api/v1/traces/${TRACE}/assessments/a-1?project=a` },
  'POST ^\\/api\\/v1\\/traces\\/([^/]+)\\/assessments\\/([^/]+)\\/override$': {
    path: `/api/v1/traces/${TRACE}/assessments/a-1/override?project=a`,
    body: { value: 'bad' },
  },
  'GET ^\\/api\\/v1\\/ingest\\/report$': { path: '/api/v1/ingest/report?project=a' },
  'GET ^\\/api\\/v1\\/auth\\/whoami$': { path: '/api/v1/auth/whoami' },
  'GET ^\\/api\\/v1\\/keys$': { path: '/api/v1/keys' },
  'POST ^\\/api\\/v1\\/keys$': { path: '/api/v1/keys', body: { project: 'a', scopes: ['read'] } },
  'DELETE ^\\/api\\/v1\\/keys\\/([^/]+)$': { path: '/api/v1/keys/0123456789abcdef' },
  // MLflow's REST API (src/api/mlflow/): an admin key once keys are on.
  'GET ^\\/version$': { path: '/version' },
  'POST ^\\/v1\\/traces$': { path: '/v1/traces', body: {} },
  'GET ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/experiments\\/get-by-name$': { path: '/api/2.0/mlflow/experiments/get-by-name?experiment_name=a' },
  'GET ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/experiments\\/get$': { path: '/api/2.0/mlflow/experiments/get?experiment_id=0' },
  'POST ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/experiments\\/create$': { path: '/api/2.0/mlflow/experiments/create', body: { name: 'a' } },
  'POST ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/experiments\\/set-experiment-tag$': {
    path: '/api/2.0/mlflow/experiments/set-experiment-tag',
    body: { experiment_id: '0', key: 'k', value: 'v' },
  },
  'GET ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/experiments\\/search$': { path: '/api/2.0/mlflow/experiments/search' },
  'POST ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/experiments\\/search$': { path: '/api/2.0/mlflow/experiments/search', body: {} },
  'GET ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/server-info$': { path: '/api/2.0/mlflow/server-info' },
  'POST ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/traces\\/search$': { path: '/api/3.0/mlflow/traces/search', body: { locations: [] } },
  'GET ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/traces\\/batchGet$': { path: `/api/3.0/mlflow/traces/batchGet?trace_ids=tr-${TRACE}` },
  'POST ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/traces\\/batchGetInfos$': {
    path: '/api/3.0/mlflow/traces/batchGetInfos',
    body: { trace_ids: [`tr-${TRACE}`] },
  },
  'GET ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/traces\\/get$': { path: `/api/3.0/mlflow/traces/get?trace_id=tr-${TRACE}` },
  'POST ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/traces\\/link-to-run$': {
    path: '/api/3.0/mlflow/traces/link-to-run',
    body: { trace_ids: [`tr-${TRACE}`], run_id: 'r' },
  },
  'POST ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/traces\\/delete-traces$': {
    path: '/api/3.0/mlflow/traces/delete-traces',
    body: { experiment_id: '0', request_ids: [`tr-${TRACE}`] },
  },
  'POST ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/traces$': { path: '/api/3.0/mlflow/traces', body: {} },
  'GET ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/traces\\/([^/]+)$': { path: `/api/3.0/mlflow/traces/tr-${TRACE}` },
  'PATCH ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/traces\\/([^/]+)\\/tags$': { path: `/api/2.0/mlflow/traces/tr-${TRACE}/tags`, body: { key: 'k', value: 'v' } },
  'DELETE ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/traces\\/([^/]+)\\/tags$': { path: `/api/2.0/mlflow/traces/tr-${TRACE}/tags`, body: { key: 'k' } },
  'POST ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/traces\\/([^/]+)\\/assessments$': {
    path: `/api/3.0/mlflow/traces/tr-${TRACE}/assessments`,
    body: { assessment: {} },
  },
  'GET ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/traces\\/([^/]+)\\/assessments\\/([^/]+)$': { path: `/api/3.0/mlflow/traces/tr-${TRACE}/assessments/a-1` },
  'PATCH ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/traces\\/([^/]+)\\/assessments\\/([^/]+)$': {
    path: `/api/3.0/mlflow/traces/tr-${TRACE}/assessments/a-1`,
    body: { assessment: {} },
  },
  'DELETE ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/traces\\/([^/]+)\\/assessments\\/([^/]+)$': { path: `/api/3.0/mlflow/traces/tr-${TRACE}/assessments/a-1` },
  'POST ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/runs\\/create$': { path: '/api/2.0/mlflow/runs/create', body: {} },
  'POST ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/runs\\/update$': { path: '/api/2.0/mlflow/runs/update', body: {} },
  'POST ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/runs\\/set-tag$': { path: '/api/2.0/mlflow/runs/set-tag', body: {} },
  'POST ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/runs\\/delete-tag$': { path: '/api/2.0/mlflow/runs/delete-tag', body: {} },
  'POST ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/runs\\/log-batch$': { path: '/api/2.0/mlflow/runs/log-batch', body: {} },
  'POST ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/runs\\/log-metric$': { path: '/api/2.0/mlflow/runs/log-metric', body: {} },
  'POST ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/runs\\/log-parameter$': { path: '/api/2.0/mlflow/runs/log-parameter', body: {} },
  'POST ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/runs\\/log-inputs$': { path: '/api/2.0/mlflow/runs/log-inputs', body: {} },
  'POST ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/runs\\/outputs$': { path: '/api/2.0/mlflow/runs/outputs', body: {} },
  'POST ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/runs\\/search$': { path: '/api/2.0/mlflow/runs/search', body: {} },
  'GET ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/runs\\/get$': { path: '/api/2.0/mlflow/runs/get?run_id=r' },
  'GET ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/': { path: '/api/2.0/mlflow/no-such-endpoint' },
  'POST ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/': { path: '/api/2.0/mlflow/no-such-endpoint', body: {} },
  'PATCH ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/': { path: '/api/2.0/mlflow/no-such-endpoint', body: {} },
  'DELETE ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/': { path: '/api/2.0/mlflow/no-such-endpoint', body: {} },
  'PUT ^\\/(?:ajax-)?api\\/[23]\\.0\\/mlflow\\/': { path: '/api/2.0/mlflow/no-such-endpoint', body: {} },
};

let t: TestApp;
const keys: Record<string, CreatedKey> = {};
const routes: Array<{ id: string; method: string; auth: RouteAuth }> = [];

beforeAll(async () => {
  t = await startTestApp({ overrides: { 'auth.mode': 'required', 'auth.bootstrap_admin_key': BOOTSTRAP_KEY, 'auth.refresh_ms': 200 } });
  const specs: Record<string, { project?: string; scopes: string[] }> = {
    readA: { project: 'a', scopes: ['read'] },
    writeA: { project: 'a', scopes: ['write'] },
    ingestA: { project: 'a', scopes: ['ingest'] },
    allA: { project: 'a', scopes: ['ingest', 'read', 'write'] },
    allB: { project: 'b', scopes: ['ingest', 'read', 'write'] },
    revoked: { project: 'a', scopes: ['ingest', 'read', 'write', 'admin'] },
    admin: { scopes: ['admin'] },
  };
  for (const [name, spec] of Object.entries(specs)) keys[name] = await createKey(t.api, BOOTSTRAP_KEY, spec);
  await revokeKey(t.api, BOOTSTRAP_KEY, (keys.revoked as CreatedKey).id);
  for (const r of t.app.api?.routeList ?? []) routes.push({ id: `${r.method} ${r.pattern.source}`, method: r.method, auth: r.auth });
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

const call = async (
  method: string,
  path: string,
  key?: string,
  body?: unknown,
): Promise<{ status: number; body: { error?: { code: string; reason?: string } } }> => {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== undefined) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${t.api}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  // Not every answer is JSON (MLflow's OTLP export answers protobuf): an auth refusal always is.
  const text = await res.text();
  let parsed: { error?: { code: string; reason?: string } } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {}
  return { status: res.status, body: parsed };
};

/** The key that lacks the route's scope but is otherwise valid on project a. */
const WRONG_SCOPE: Record<Exclude<RouteAuth, 'public' | 'key'>, string> = { read: 'ingestA', write: 'readA', admin: 'allA' };

describe('API routes', () => {
  it('every registered route has an auth rule and an example here', () => {
    expect(routes.length).toBeGreaterThanOrEqual(Object.keys(EXAMPLES).length);
    for (const r of routes) {
      expect(['public', 'key', 'read', 'write', 'admin'], r.id).toContain(r.auth);
      expect(EXAMPLES[r.id], `no example for ${r.id}: add one to EXAMPLES with its auth rule`).toBeDefined();
    }
  });

  it('refuses each route without a key, with a bad, revoked, wrong-scope or other project key, writing nothing', async () => {
    const keyCountBefore = ((await call('GET', '/api/v1/keys', BOOTSTRAP_KEY)).body as unknown as { keys: unknown[] }).keys.length;
    for (const r of routes) {
      if (r.auth === 'public') continue;
      const ex = EXAMPLES[r.id] as { path: string; body?: unknown };
      const cases: Array<[string, string | undefined, number, string]> = [
        ['no key', undefined, 401, 'no_key'],
        ['bad key', 'thk_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 401, 'bad_key'],
        ['not a bearer', 'garbage', 401, 'bad_key'],
        ['revoked key', keys.revoked?.secret, 401, 'revoked'],
      ];
      if (r.auth !== 'key') {
        cases.push(['wrong scope', keys[WRONG_SCOPE[r.auth]]?.secret, 403, 'wrong_scope']);
        cases.push(['other project', (r.auth === 'admin' ? keys.allB : keys.allB)?.secret, 403, r.auth === 'admin' ? 'wrong_scope' : 'wrong_project']);
      }
      for (const [what, key, status, reason] of cases) {
        const res = await call(r.method, ex.path, key, ex.body);
        expect(res.status, `${r.id} with ${what}`).toBe(status);
        expect(res.body.error?.reason, `${r.id} with ${what}`).toBe(reason);
      }
    }
    // Nothing was written: no assessment on project a, no new key.
    const list = await call('GET', `/api/v1/traces/${TRACE}/assessments?project=a`, BOOTSTRAP_KEY);
    expect(list.status).toBe(200);
    expect((list.body as unknown as { assessments: unknown[] }).assessments).toEqual([]);
    const after = ((await call('GET', '/api/v1/keys', BOOTSTRAP_KEY)).body as unknown as { keys: unknown[] }).keys.length;
    expect(after).toBe(keyCountBefore);
  });

  it('answers the right key past authentication', async () => {
    const right: Record<string, string> = { read: 'allA', write: 'allA', admin: 'admin', key: 'readA' };
    for (const r of routes) {
      if (r.auth === 'public') continue;
      const ex = EXAMPLES[r.id] as { path: string; body?: unknown };
      const res = await call(r.method, ex.path, keys[right[r.auth] as string]?.secret, ex.body);
      expect([401, 403], `${r.id}: ${JSON.stringify(res.body)}`).not.toContain(res.status);
    }
  });

  it("fills in the key's project and never says whether another project exists", async () => {
    const ingest = await fetch(`${t.otlpHttp}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${keys.allB?.secret}` },
      body: protobufBody(syntheticTrace(1).spans),
    });
    expect(ingest.status).toBe(200);
    const existing = await call('GET', '/api/v1/traces?project=b', keys.readA?.secret);
    const missing = await call('GET', '/api/v1/traces?project=never-created', keys.readA?.secret);
    expect(existing.status).toBe(403);
    expect(missing).toEqual(existing);
    // Without ?project= a project key searches its own project.
    const own = await call('GET', '/api/v1/traces', keys.allB?.secret);
    expect(own.status).toBe(200);
    expect((own.body as unknown as { traces: unknown[] }).traces).toHaveLength(1);
  });

  it('counts refusals by reason in /metrics', async () => {
    const text = await (await fetch(`${t.api}/metrics`)).text();
    for (const reason of ['no_key', 'bad_key', 'revoked', 'wrong_scope', 'wrong_project']) {
      expect(text).toMatch(new RegExp(`tracehouse_auth_failures_total\\{listener="api",reason="${reason}"\\} [1-9]`));
    }
    expect(text).not.toContain(keys.readA?.secret);
  });
});

describe('OTLP transports', () => {
  const body = (): Buffer => protobufBody(syntheticTrace(2).spans);
  const searchA = async (): Promise<number> =>
    ((await call('GET', '/api/v1/traces?project=a', BOOTSTRAP_KEY)).body as unknown as { traces: unknown[] }).traces.length;
  const cases = (): Array<[string, Record<string, string>, number, GrpcStatus]> => [
    ['no key', {}, 401, GrpcStatus.UNAUTHENTICATED],
    ['bad key', { authorization: 'Bearer thk_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, 401, GrpcStatus.UNAUTHENTICATED],
    ['revoked key', { authorization: `Bearer ${keys.revoked?.secret}` }, 401, GrpcStatus.UNAUTHENTICATED],
    ['wrong scope', { authorization: `Bearer ${keys.readA?.secret}` }, 403, GrpcStatus.PERMISSION_DENIED],
    ['other project', { authorization: `Bearer ${keys.allB?.secret}`, 'x-tracehouse-project': 'a' }, 403, GrpcStatus.PERMISSION_DENIED],
  ];

  it('refuses OTLP/HTTP traces and logs with the right status and writes nothing', async () => {
    for (const path of ['/v1/traces', '/v1/logs']) {
      for (const [what, headers, status] of cases()) {
        const res = await fetch(`${t.otlpHttp}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', ...headers }, body: body() });
        expect(res.status, `${path} with ${what}`).toBe(status);
      }
    }
    expect(await searchA()).toBe(0);
  });

  it('refuses OTLP/gRPC traces and logs with the right code and writes nothing', async () => {
    for (const method of ['traces', 'logs'] as const) {
      for (const [what, md, , code] of cases()) {
        const { err } = await grpcExport(t.otlpGrpc, method, body(), { metadata: md });
        expect(err?.code, `${method} with ${what}`).toBe(code);
      }
    }
    expect(await searchA()).toBe(0);
  });

  it("refuses a resource naming another project than the key's, on both transports", async () => {
    const spans = syntheticTrace(3).spans;
    const { resourceFromAttributes } = await import('@opentelemetry/resources');
    const other = spans.map((s) => ({ ...s, resource: resourceFromAttributes({ 'tracehouse.project': 'b' }) }));
    const res = await fetch(`${t.otlpHttp}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${keys.ingestA?.secret}` },
      body: protobufBody(other),
    });
    expect(res.status).toBe(403);
    const { err } = await grpcExport(t.otlpGrpc, 'traces', protobufBody(other), { metadata: { authorization: `Bearer ${keys.ingestA?.secret}` } });
    expect(err?.code).toBe(GrpcStatus.PERMISSION_DENIED);
    expect(await searchA()).toBe(0);
  });

  it("writes an ingest key's spans into its project on both transports", async () => {
    const res = await fetch(`${t.otlpHttp}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${keys.ingestA?.secret}` },
      body: body(),
    });
    expect(res.status).toBe(200);
    const { err } = await grpcExport(t.otlpGrpc, 'traces', body(), { metadata: { authorization: `Bearer ${keys.ingestA?.secret}` } });
    expect(err).toBeNull();
    await waitFor(async () => (await searchA()) === 2, 'two traces in project a');
  });
});
