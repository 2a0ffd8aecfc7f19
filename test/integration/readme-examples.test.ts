/**
 * The README's runnable examples, run as a newcomer pastes them: in order, in one shell, against a started
 * tracehouse, beginning with the example apps that load their traces. A block is runnable when an HTML
 * comment `<!-- test -->` (or `<!-- test: output contains "TEXT" -->`) stands right before it; an example
 * that stops working, or whose output no longer shows TEXT, fails here.
 *
 * What differs from a terminal, and why: the product listens on free ports (the README's localhost:8080,
 * :4318 and :4317 are rewritten to them, and TRACEHOUSE_API_URL / OTEL_EXPORTER_OTLP_ENDPOINT point
 * there); `npx tracehouse` runs the built bin (what npx resolves to in a clone, without its start-up
 * cost); curl fails on an HTTP error, so an example answering 404 fails instead of printing the error.
 * The Python examples install their venvs with pip (under the OS temp dir, reused by later runs): a
 * machine without python3 and venv fails this test, never skips it (`.ci/run` checks for them first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir } from '../helpers/app.js';
import { BIN } from '../helpers/processes.js';
import { freePort } from '../setup/kafka.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

interface Block {
  line: number;
  code: string;
  contains?: string;
}

/** The marked shell blocks, in README order. */
function runnableBlocks(text: string): Block[] {
  const out: Block[] = [];
  const re = /<!-- test(?:: output contains "([^"]*)")? -->\n```(?:sh|bash)\n([\s\S]*?)```/g;
  for (const m of text.matchAll(re)) {
    out.push({ line: text.slice(0, m.index).split('\n').length, code: m[2] ?? '', ...(m[1] ? { contains: m[1] } : {}) });
  }
  return out;
}

let child: ChildProcess | null = null;
let dataDir = '';
let ports = { grpc: 0, http: 0, api: 0 };
let log = '';

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tracehouse-readme-'));
  ports = { grpc: await freePort(), http: await freePort(), api: await freePort() };
  child = spawn(
    process.execPath,
    [BIN, 'start', '--data-dir', dataDir, '--grpc-port', `${ports.grpc}`, '--http-port', `${ports.http}`, '--api-port', `${ports.api}`, '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  const deadline = Date.now() + 120_000;
  while (!log.includes('tracehouse is up')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`start failed: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child?.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  removeDir(dataDir);
});

describe('README examples', () => {
  it('marks runnable blocks, starting with the example apps', () => {
    const blocks = runnableBlocks(readme);
    expect(blocks.length).toBeGreaterThanOrEqual(8);
    expect(blocks[0]?.code).toContain('npm run example');
  });

  it('run in order, as pasted, against a started tracehouse', async () => {
    const blocks = runnableBlocks(readme);
    const local = (code: string): string =>
      code
        .replaceAll('http://localhost:8080', `http://127.0.0.1:${ports.api}`)
        .replaceAll('localhost:4318', `127.0.0.1:${ports.http}`)
        .replaceAll('localhost:4317', `127.0.0.1:${ports.grpc}`);
    const script = [
      'set -eo pipefail',
      `npx() { if [ "$1" = tracehouse ]; then shift; node ${JSON.stringify(BIN)} "$@"; else command npx "$@"; fi; }`,
      'curl() { command curl --fail-with-body "$@"; }',
      // A marker on a line of its own, even after output without a final newline (curl's JSON).
      ...blocks.flatMap((b, i) => [`printf '\\n@@block ${i}@@\\n'`, local(b.code)]),
      "printf '\\n@@done@@\\n'",
    ].join('\n');
    const file = join(mkdtempSync(join(tmpdir(), 'tracehouse-readme-sh-')), 'readme.sh');
    writeFileSync(file, script);

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TRACEHOUSE_API_URL: `http://127.0.0.1:${ports.api}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${ports.http}`,
      TRACEHOUSE_EXAMPLES_VENVS: join(tmpdir(), 'tracehouse-example-venvs'),
    };
    // The examples start their own stub; a developer's real endpoint or key must not leak in.
    for (const k of ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_SERVICE_NAME'])
      delete env[k];
    const sh = spawn('bash', [file], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    sh.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    sh.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => sh.once('exit', resolve));

    const parts = out.split(/^@@block (\d+)@@$/m);
    const outputOf = new Map<number, string>();
    for (let i = 1; i < parts.length; i += 2) outputOf.set(Number(parts[i]), parts[i + 1] ?? '');
    const last = Math.max(-1, ...outputOf.keys());
    const failed = blocks[last];
    expect(
      code,
      `README block at line ${failed?.line} failed (exit ${code}):\n${failed?.code}\n--- output ---\n${(outputOf.get(last) ?? out).slice(-4000)}\n--- tracehouse ---\n${log.slice(-2000)}`,
    ).toBe(0);
    expect(out).toContain('@@done@@');
    blocks.forEach((b, i) => {
      if (b.contains) expect(outputOf.get(i), `README block at line ${b.line}: output should contain "${b.contains}"`).toContain(b.contains);
    });
  }, 1_500_000);
});
