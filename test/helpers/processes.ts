import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

/** The built `tracehouse` bin (npm test builds dist/ before running the tests). */
export const BIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** Flat dotted overrides (`'api.port': 0`) as the YAML config tree a child process reads with `--config`. */
export function configYaml(overrides: Record<string, unknown>): string {
  const tree: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(overrides)) {
    const keys = path.split('.');
    let node = tree;
    for (const k of keys.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>;
    node[keys[keys.length - 1] as string] = value;
  }
  return stringify(tree);
}

export interface RoleProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Runs `tracehouse <args>` and waits for its "up" line on stderr. */
export async function startRole(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<RoleProcess> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  while (!/tracehouse \w+ up:/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`tracehouse ${args[0]} did not come up:\n${out.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, output: () => out, exited };
}
