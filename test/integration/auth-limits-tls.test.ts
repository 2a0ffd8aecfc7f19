import { credentials, status as GrpcStatus } from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { BOOTSTRAP_KEY, waitFor } from '../helpers/auth.js';
import { grpcExport } from '../helpers/grpc.js';
import { protobufBody, syntheticTrace } from '../helpers/synthetic.js';

// chDB opens one data directory per process: each test stops its app before the next starts one.
const apps: TestApp[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.stop();
});

/** `n` synthetic traces (3 spans each) in one export body. */
const traces = (n: number): Buffer => protobufBody(Array.from({ length: n }, (_, i) => syntheticTrace(i).spans).flat());
const post = (url: string, body: Buffer, project: string): Promise<Response> =>
  fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'x-tracehouse-project': project }, body });

describe('per-project ingest limits', () => {
  it('answer 429 with Retry-After (gRPC RESOURCE_EXHAUSTED with RetryInfo) past the limit, spare other projects, and recover', async () => {
    // 10 spans/s holding one second's worth: a first export of 150 spans leaves 14 s of debt.
    const t = await startTestApp({ overrides: { 'auth.limits.spans_per_second': 10 } });
    apps.push(t);
    expect((await post(t.otlpHttp, traces(50), 'noisy')).status).toBe(200);
    const limited = await post(t.otlpHttp, traces(1), 'noisy');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const { err } = await grpcExport(t.otlpGrpc, 'traces', traces(1), { metadata: { 'x-tracehouse-project': 'noisy' } });
    expect(err?.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    const details = err?.metadata.get('grpc-status-details-bin')[0] as Buffer;
    expect(details.toString('latin1')).toContain('type.googleapis.com/google.rpc.RetryInfo');
    // Another tenant is not starved by the first.
    expect((await post(t.otlpHttp, traces(1), 'quiet')).status).toBe(200);
    // And the first gets through again once its bucket has refilled.
    await waitFor(async () => (await post(t.otlpHttp, traces(1), 'noisy')).status === 200, 'the limit to recover', 90_000);
  }, 120_000);
});

function rawGet(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: headers['x-method'] ?? 'GET', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('browser guards on a loopback API', () => {
  it('refuses a Host other than localhost (DNS rebinding) and sends CORS headers only to allowed origins', async () => {
    const t = await startTestApp({ overrides: { 'auth.cors_origins': ['http://ui.example'], 'auth.allowed_hosts': ['tracehouse.internal'] } });
    apps.push(t);
    const port = Number(new URL(t.api).port);
    expect((await rawGet(port, '/api/v1/traces', { host: 'evil.example' })).status).toBe(403);
    expect((await rawGet(port, '/api/v1/traces', { host: `localhost:${port}` })).status).toBe(200);
    expect((await rawGet(port, '/api/v1/traces', { host: 'tracehouse.internal' })).status).toBe(200);
    const allowed = await rawGet(port, '/api/v1/traces', { host: 'localhost', origin: 'http://ui.example', 'x-method': 'OPTIONS' });
    expect(allowed.status).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('http://ui.example');
    const other = await rawGet(port, '/api/v1/traces', { host: 'localhost', origin: 'http://evil.example' });
    expect(other.status).toBe(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  }, 60_000);
});

describe('TLS', () => {
  it('serves OTLP/HTTP, OTLP/gRPC and the API over TLS from a certificate in config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracehouse-tls-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const t = await startTestApp({
      overrides: { 'tls.cert_file': cert, 'tls.key_file': key, 'auth.mode': 'required', 'auth.bootstrap_admin_key': BOOTSTRAP_KEY },
    });
    apps.push(t);
    const ca = readFileSync(cert);
    const httpsCall = (url: string, method: string, body?: Buffer, auth = true): Promise<number> =>
      new Promise((resolve, reject) => {
        const u = new URL(url);
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port: u.port,
            path: u.pathname + u.search,
            method,
            ca,
            servername: 'localhost',
            headers: { host: 'localhost', 'content-type': 'application/x-protobuf', ...(auth ? { authorization: `Bearer ${BOOTSTRAP_KEY}` } : {}) },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    expect(await httpsCall(`${t.otlpHttp}/v1/traces`, 'POST', traces(1))).toBe(200);
    expect(await httpsCall(`${t.otlpHttp}/v1/traces`, 'POST', traces(1), false)).toBe(401);
    expect(await httpsCall(`${t.api}/api/v1/traces?project=default`, 'GET')).toBe(200);
    const { err } = await grpcExport(t.otlpGrpc, 'traces', traces(1), {
      metadata: { authorization: `Bearer ${BOOTSTRAP_KEY}` },
      creds: credentials.createSsl(ca),
    });
    expect(err).toBeNull();
    // Plain TCP is not answered as OTLP.
    await expect(fetch(`${t.otlpHttp}/v1/traces`, { method: 'POST', body: traces(1) })).rejects.toThrow();
  }, 60_000);
});
