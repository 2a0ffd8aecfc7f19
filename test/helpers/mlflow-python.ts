/**
 * Runs the Python suite of test/python (the seed's MLflow program, with the real `mlflow` client) against
 * a tracehouse child process and the OpenAI-compatible stub. The venvs are made by `.ci/mlflow-venv.sh`
 * (`.ci/run` makes them and names them in MLFLOW_PYTHONS); without them the suite is skipped locally and
 * fails in CI (CI or REQUIRE_PYTHON set).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startJudgeStub } from './judge-stub.js';
import { localOverrides } from './app.js';
import { configYaml, startRole } from './processes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PYTHON_SUITE = join(ROOT, 'test/python');

/** The Python interpreters of the MLflow venvs to test with, oldest and newest client. */
export function mlflowPythons(): string[] {
  const named = process.env.MLFLOW_PYTHONS?.split(':').filter(Boolean);
  if (named?.length) {
    for (const p of named) if (!existsSync(p)) throw new Error(`MLFLOW_PYTHONS names ${p}, which does not exist: run .ci/mlflow-venv.sh`);
    return named;
  }
  const ci = join(ROOT, '.ci');
  const found = readdirSync(ci)
    .filter((d) => d.startsWith('.venv-mlflow-') && existsSync(join(ci, d, '.complete')))
    .map((d) => join(ci, d, 'bin/python'))
    .sort((a, b) => cmpVersions(versionOf(a), versionOf(b)));
  if (found.length === 0 && (process.env.CI || process.env.REQUIRE_PYTHON)) {
    throw new Error('no MLflow venv: .ci/run makes them (.ci/mlflow-venv.sh VERSION); CI does not skip the MLflow suite');
  }
  return found;
}

const cmpVersions = (a: string, b: string): number => {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
};

export const versionOf = (python: string): string => /\.venv-mlflow-([^/]+)\//.exec(python)?.[1] ?? python;

export interface SuiteResult {
  code: number | null;
  output: string;
}

/**
 * Starts the stub and `tracehouse start` (with `overrides` in its config file and tracehouse's own
 * scorers judging through the stub), runs pytest with `python`, stops both. Resolves with pytest's exit code.
 */
export async function runSeedSuite(python: string, overrides: Record<string, unknown> = {}): Promise<SuiteResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tracehouse-mlflow-'));
  const stub = await startJudgeStub();
  const config = join(dir, 'tracehouse.yaml');
  writeFileSync(
    config,
    configYaml({
      ...localOverrides(join(dir, 'chdb')),
      'writer.batch_max_wait_ms': 20,
      'evaluator.settle_ms': 300,
      'evaluator.judge.base_url': stub.url,
      'evaluator.judge.api_key': 'test',
      'evaluator.scorers': [
        { type: 'guidelines', name: 'th_professional', guidelines: 'The email must be in a professional tone.', filter: "span.type = 'RETRIEVER'" },
        { type: 'error_free', filter: "span.type = 'RETRIEVER'" },
      ],
      log_level: 'warn',
      ...overrides,
    }),
  );
  const th = await startRole(['start', '--config', config]);
  try {
    const port = /API :(\d+)/.exec(th.output())?.[1];
    if (!port) throw new Error(`no API port in:\n${th.output()}`);
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-x', PYTHON_SUITE], {
      cwd: PYTHON_SUITE,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        MLFLOW_TRACKING_URI: url,
        // A key in the client's own variable: the Bearer header must not be refused.
        MLFLOW_TRACKING_TOKEN: 'th-test-key',
        TRACEHOUSE_API: url,
        TRACEHOUSE_SCORERS: '1',
        OPENAI_BASE_URL: stub.url,
        OPENAI_API_KEY: 'sk-test',
        MLFLOW_HTTP_REQUEST_MAX_RETRIES: '2',
        PYTHONUNBUFFERED: '1',
      },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { code, output: `${output}\n--- tracehouse ---\n${th.output().slice(-4000)}` };
  } finally {
    th.child.kill('SIGTERM');
    await th.exited;
    await stub.close();
  }
}
