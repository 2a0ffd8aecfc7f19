import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir } from '../helpers/app.js';
import { BOOTSTRAP_KEY, waitFor } from '../helpers/auth.js';
import { BIN, startRole, type RoleProcess } from '../helpers/processes.js';
import { protobufBody, syntheticTrace } from '../helpers/synthetic.js';
import { freePort } from '../setup/kafka.js';

/**
 * Keys across processes, through the built CLI: created and revoked with `tracehouse keys` while the
 * product runs, and a revocation reaching a second process (which checks keys through the first one's
 * API, auth.keys_url) within its stated bound: auth.refresh_ms plus one check.
 */
const dirs: string[] = [];
const procs: RoleProcess[] = [];
afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  for (const d of dirs) removeDir(d);
});

async function startProduct(env: Record<string, string>): Promise<{ api: string; http: string; proc: RoleProcess }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tracehouse-auth-'));
  dirs.push(dataDir);
  const ports = { grpc: await freePort(), http: await freePort(), api: await freePort() };
  const proc = await startRole(['start', '--data-dir', dataDir, '--log-level', 'warn'], {
    TRACEHOUSE_GRPC_PORT: String(ports.grpc),
    TRACEHOUSE_HTTP_PORT: String(ports.http),
    TRACEHOUSE_API_PORT: String(ports.api),
    TRACEHOUSE_API_KEY: '',
    ...env,
  });
  procs.push(proc);
  return { api: `http://127.0.0.1:${ports.api}`, http: `http://127.0.0.1:${ports.http}`, proc };
}

const cli = (args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, TRACEHOUSE_API_KEY: '', ...env } });

const ingest = async (http: string, key: string): Promise<number> =>
  (
    await fetch(`${http}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${key}` },
      body: protobufBody(syntheticTrace(1).spans),
    })
  ).status;

describe('keys across processes', () => {
  it('creates, lists and revokes keys through the running API; the revocation reaches a second process', async () => {
    const secretFile = join(mkdtempSync(join(tmpdir(), 'tracehouse-secret-')), 'admin-key');
    writeFileSync(secretFile, `${BOOTSTRAP_KEY}\n`);
    const a = await startProduct({ TRACEHOUSE_AUTH_MODE: 'required', TRACEHOUSE_BOOTSTRAP_ADMIN_KEY_FILE: secretFile, TRACEHOUSE_AUTH_REFRESH_MS: '500' });
    const b = await startProduct({ TRACEHOUSE_AUTH_MODE: 'required', TRACEHOUSE_AUTH_KEYS_URL: a.api, TRACEHOUSE_AUTH_REFRESH_MS: '500' });

    // Without the admin key the CLI is refused and says how to pass one.
    const refused = cli(['keys', 'list', '--api-url', a.api]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('TRACEHOUSE_API_KEY');

    const created = cli([
      'keys',
      'create',
      '--project',
      'shop',
      '--scope',
      'ingest,read',
      '--name',
      'ci',
      '--expires',
      '90d',
      '--api-url',
      a.api,
      '--key',
      BOOTSTRAP_KEY,
    ]);
    expect(created.status, created.stderr).toBe(0);
    const secret = /^(thk_\S+)$/m.exec(created.stdout)?.[1] as string;
    const id = /created key ([0-9a-f]{16})/.exec(created.stdout)?.[1] as string;
    expect(secret).toBeDefined();

    expect(await ingest(a.http, secret)).toBe(200);
    expect(await ingest(b.http, secret)).toBe(200);
    // The key reads its own project through the CLI, with the key from the environment.
    await waitFor(async () => {
      const out = cli(['traces', '--json', '--api-url', a.api], { TRACEHOUSE_API_KEY: secret });
      return out.status === 0 && (JSON.parse(out.stdout) as { traces: unknown[] }).traces.length === 1;
    }, 'the trace in project shop');

    const listed = cli(['keys', 'list', '--api-url', a.api], { TRACEHOUSE_API_KEY: BOOTSTRAP_KEY });
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${id}\\s+ci\\s+shop\\s+ingest,read`));
    expect(listed.stdout).not.toContain(secret);
    // Last use is recorded at the next reload.
    await waitFor(async () => {
      const out = cli(['keys', 'list', '--json', '--api-url', a.api, '--key', BOOTSTRAP_KEY]);
      return (JSON.parse(out.stdout) as { keys: Array<{ id: string; last_used: string | null }> }).keys.some((k) => k.id === id && k.last_used !== null);
    }, 'last_used to be recorded');

    const revoked = cli(['keys', 'revoke', id, '--api-url', a.api, '--key', BOOTSTRAP_KEY]);
    expect(revoked.status, revoked.stderr).toBe(0);
    expect(await ingest(a.http, secret)).toBe(401);
    // The second process learns it within refresh_ms plus one check; wait for it, generously.
    await waitFor(async () => (await ingest(b.http, secret)) === 401, 'the second process to refuse the revoked key');
    expect(a.proc.output()).not.toContain(secret);
    expect(b.proc.output()).not.toContain(secret);
  }, 180_000);

  it('creates a key on the store directly when nothing runs, and the product then accepts it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tracehouse-auth-offline-'));
    dirs.push(dataDir);
    const apiUrl = `http://127.0.0.1:${await freePort()}`;
    const created = cli(['keys', 'create', '--project', 'offline', '--scope', 'ingest', '--api-url', apiUrl], { TRACEHOUSE_DATA_DIR: dataDir });
    expect(created.status, created.stderr).toBe(0);
    expect(created.stderr).toContain('using the store directly');
    const secret = /^(thk_\S+)$/m.exec(created.stdout)?.[1] as string;

    const ports = { grpc: await freePort(), http: await freePort(), api: await freePort() };
    const proc = await startRole(['start', '--data-dir', dataDir, '--log-level', 'warn', '--auth-mode', 'required'], {
      TRACEHOUSE_GRPC_PORT: String(ports.grpc),
      TRACEHOUSE_HTTP_PORT: String(ports.http),
      TRACEHOUSE_API_PORT: String(ports.api),
    });
    procs.push(proc);
    expect(await ingest(`http://127.0.0.1:${ports.http}`, secret)).toBe(200);
    expect(await ingest(`http://127.0.0.1:${ports.http}`, 'thk_wrong')).toBe(401);
  }, 120_000);

  it('warns at every start that an explicitly unauthenticated deployment on a network address is open', async () => {
    const p = await startProduct({ TRACEHOUSE_AUTH_MODE: 'unauthenticated', TRACEHOUSE_HTTP_HOST: '0.0.0.0' });
    expect(p.proc.output()).toMatch(/"level":40.*auth\.mode is .{0,2}"unauthenticated/);
    const res = await fetch(`${p.http}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: protobufBody(syntheticTrace(2).spans),
    });
    expect(res.status).toBe(200);
  }, 120_000);
});
