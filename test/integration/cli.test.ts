import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureSpans, loadFacts } from '../helpers/fixtures.js';
import { exportSpans } from '../helpers/exporters.js';
import { removeDir } from '../helpers/app.js';
import { freePort } from '../setup/kafka.js';

/** The built `tracehouse` bin, run with plain node as a user would (npm test builds dist/ first). */
const BIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

let child: ChildProcess | null = null;
let dataDir = '';
let ports = { grpc: 0, http: 0, api: 0 };
let stderr = '';

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tracehouse-cli-'));
  ports = { grpc: await freePort(), http: await freePort(), api: await freePort() };
  child = spawn(
    process.execPath,
    [
      BIN,
      'start',
      '--data-dir',
      dataDir,
      '--grpc-port',
      String(ports.grpc),
      '--http-port',
      String(ports.http),
      '--api-port',
      String(ports.api),
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!stderr.includes('tracehouse is up')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`start failed: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  removeDir(dataDir);
});

describe('tracehouse start', () => {
  it('serves OTLP/gRPC, OTLP/HTTP and the API, and the traces command reads them back', async () => {
    const ready = await fetch(`http://127.0.0.1:${ports.api}/readyz`);
    expect(ready.status).toBe(200);
    // The banner says where everything is, once every listener is up.
    // Listeners bind loopback by default, and the banner names the address they bound.
    expect(stderr).toContain(`  UI         http://127.0.0.1:${ports.api}/`);
    expect(stderr).toContain(`  API        http://127.0.0.1:${ports.api}/api/v1/traces?project=NAME`);
    expect(stderr).toContain(`  OTLP/HTTP  http://127.0.0.1:${ports.http}  (POST /v1/traces, /v1/logs)`);
    expect(stderr).toContain(`  data       ${dataDir}`);
    const endpoint = { http: `http://127.0.0.1:${ports.http}`, grpc: `http://127.0.0.1:${ports.grpc}` };
    expect((await exportSpans('grpc', endpoint, fixtureSpans('mlflow'))).code).toBe(0);
    expect((await exportSpans('proto', endpoint, fixtureSpans('vercel'), 'vercel')).code).toBe(0);

    const out = spawnSync(process.execPath, [BIN, 'traces', "trace.status = 'ERROR'", '--api-url', `http://127.0.0.1:${ports.api}`], { encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^TRACE ID\s+TIME\s+STATE/);
    expect(out.stdout).toContain('generate_sales_email');
    expect(out.stdout).toMatch(/1 trace\(s\)/);

    const json = spawnSync(process.execPath, [BIN, 'traces', '--project', 'vercel', '--json', '--api-url', `http://127.0.0.1:${ports.api}`], {
      encoding: 'utf8',
    });
    expect((JSON.parse(json.stdout) as { traces: unknown[] }).traces).toHaveLength(5);

    const bad = spawnSync(process.execPath, [BIN, 'traces', 'trace.status =', '--api-url', `http://127.0.0.1:${ports.api}`], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/position/);
  });

  it('records feedback and expectations that show up on the trace', async () => {
    const api = `http://127.0.0.1:${ports.api}`;
    const traceId = loadFacts('openinference').traces[0]!.trace_id;
    const fb = spawnSync(
      process.execPath,
      [BIN, 'feedback', traceId, '--name', 'helpful', '--value', 'true', '--rationale', 'clear email', '--source-id', 'alice', '--api-url', api],
      { encoding: 'utf8' },
    );
    expect(fb.status, fb.stderr).toBe(0);
    expect(fb.stdout.trim()).toMatch(/^a-[0-9a-f]{32}$/);
    const ex = spawnSync(process.execPath, [BIN, 'expect', traceId, '--name', 'expected_response', '--value', 'A short follow-up email', '--api-url', api], {
      encoding: 'utf8',
    });
    expect(ex.status, ex.stderr).toBe(0);
    const res = await fetch(`${api}/api/v1/traces/${traceId}/assessments`);
    const body = (await res.json()) as {
      assessments: Array<{ name: string; kind: string; value: unknown; rationale: string; source: { source_type: string; source_id: string } }>;
    };
    expect(body.assessments).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: 'helpful',
          kind: 'feedback',
          value: true,
          rationale: 'clear email',
          source: { source_type: 'HUMAN', source_id: 'alice' },
        }),
        expect.objectContaining({ name: 'expected_response', kind: 'expectation', value: 'A short follow-up email' }),
      ]),
    );
    const bad = spawnSync(process.execPath, [BIN, 'feedback', traceId, '--name', 'x', '--value', '1', '--source-type', 'ROBOT', '--api-url', api], {
      encoding: 'utf8',
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/source-type/);
  });

  it('a second process on the same data directory fails in one line naming the directory', () => {
    const r = spawnSync(process.execPath, [BIN, 'start', '--data-dir', dataDir, '--http-port', '0', '--grpc-port', '0', '--api-port', '0'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    const ours = r.stderr.split('\n').filter((l) => l.startsWith('tracehouse:'));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toContain(`[STORE_SETUP_FAILED] cannot open the embedded store in ${dataDir}`);
    expect(ours[0]).toContain('--data-dir');
    // No stack trace of ours (the engine's own one-line notice may precede it).
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('drains and exits 0 on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    child?.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('npm start', () => {
  it('stops the product when the npm process gets SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracehouse-npm-start-'));
    const api = await freePort();
    const npm = spawn('npm', ['start', '--', '--data-dir', dir, '--http-port', '0', '--grpc-port', '0', '--api-port', String(api), '--api-host', '127.0.0.1'], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      let err = '';
      npm.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
      });
      const deadline = Date.now() + 120_000;
      while (!err.includes('tracehouse is up')) {
        if (npm.exitCode !== null || Date.now() > deadline) throw new Error(`npm start failed: ${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
      npm.kill('SIGTERM');
      await exited;
      // The product itself is gone: its port refuses connections once the process has exited.
      const until = Date.now() + 30_000;
      let refused = false;
      while (!refused && Date.now() < until) {
        refused = await fetch(`http://127.0.0.1:${api}/healthz`).then(
          () => false,
          () => true,
        );
        if (!refused) await new Promise((r) => setTimeout(r, 200));
      }
      expect(refused).toBe(true);
    } finally {
      if (npm.exitCode === null) npm.kill('SIGKILL');
      removeDir(dir);
    }
  });
});

describe('tracehouse with bad settings', () => {
  it('refuses to start and names the setting and what is allowed', () => {
    const r = spawnSync(process.execPath, [BIN, 'start', '--store', 'postgres'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/store\.kind/);
    expect(r.stderr).toMatch(/embedded/);
    expect(r.stderr).toMatch(/^tracehouse: \[CONFIG_INVALID\] invalid configuration/);
    const port = spawnSync(process.execPath, [BIN, 'start', '--api-port', 'x'], { encoding: 'utf8', timeout: 30_000 });
    expect(port.status).toBe(1);
    expect(port.stderr).toMatch(/--api-port: api\.port must be an integer/);
  });

  it('migrates a fresh data directory and says so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracehouse-migrate-'));
    try {
      const r = spawnSync(process.execPath, [BIN, 'migrate', '--data-dir', dir], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/schema at version \d+ \(applied 1[,)]/);
      const again = spawnSync(process.execPath, [BIN, 'migrate', '--data-dir', dir], { encoding: 'utf8', timeout: 60_000 });
      expect(again.stdout).toMatch(/up to date/);
    } finally {
      removeDir(dir);
    }
  });
});

describe('tracehouse help and command-line mistakes', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });

  it('answers --help for every command with its flags and an example, exit 0', () => {
    // Every command's help text is checked in test/unit/cli-args.test.ts; here the built bin answers it.
    const out: Record<string, string> = {};
    for (const command of ['start', 'traces', 'evaluate']) {
      const r = run(command, '--help');
      expect(r.status, `${command}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`Usage: tracehouse ${command}`);
      expect(r.stdout).toMatch(/\nExample:\n {2}npx tracehouse /);
      out[command] = r.stdout;
    }
    expect(out.traces).toMatch(/--api-url URL .*default: http:\/\/localhost:8080; env TRACEHOUSE_API_URL/);
    expect(out.start).toMatch(/--data-dir VALUE .*default: \.data\/chdb; env TRACEHOUSE_DATA_DIR/);
  }, 240_000);

  it('refuses an unknown flag or command in one line of its own that points at --help, exit 2', () => {
    for (const [args, line] of [
      [['traces', '--bogus'], 'tracehouse traces: unknown option --bogus (see "tracehouse traces --help")'],
      [['evaluate', '--scorers'], 'tracehouse evaluate: --scorers needs a value (FILE) (see "tracehouse evaluate --help")'],
      [['start', '--no-such-setting', '1'], 'tracehouse start: unknown option --no-such-setting (see "tracehouse start --help")'],
    ] as const) {
      const r = run(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`${line}\n`);
    }
    const unknown = run('serve');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^tracehouse: unknown command "serve"; the commands are start, .* \(see "tracehouse --help"\)\n$/);
  }, 240_000);
});
