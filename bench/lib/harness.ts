/**
 * Running tracehouse processes from a benchmark and measuring them: free ports, readiness, /proc CPU and
 * peak RSS, Prometheus samples, and keep-alive OTLP/HTTP senders.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = `${ROOT}dist/cli/main.js`;

/** Builds dist/ unless told not to, and makes sure the CLI the benchmarks start is there. */
export function ensureBuilt(build: boolean): void {
  if (build) {
    process.stderr.write('building (npm run build)…\n');
    if (spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] }).status !== 0) throw new Error('npm run build failed');
  }
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (or drop --no-build)`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds of a process so far (fields 14 and 15 of /proc/<pid>/stat). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/**
 * CPU seconds the whole machine has spent busy (all cores, /proc/stat: everything but idle and iowait):
 * over an interval, divided by its wall time, the cores in use by every process, the broker's included.
 */
export function machineBusySeconds(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const total = cpu.reduce((a, b) => a + b, 0);
  return (total - (cpu[3] ?? 0) - (cpu[4] ?? 0)) / CLK_TCK;
}

/** Peak resident set size in bytes (VmHWM). */
export function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export interface Proc {
  child: ChildProcess;
  pid: number;
  stderr: () => string;
  stop: () => Promise<void>;
}

/** Starts `tracehouse <args>` and waits until `readyUrl` answers 200. */
export async function startProc(args: string[], readyUrl: string, nodeArgs: string[] = [], env: NodeJS.ProcessEnv = {}, cli = CLI): Promise<Proc> {
  const child = spawn(process.execPath, [...nodeArgs, cli, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-20_000);
  });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tracehouse ${args[0]} exited with ${child.exitCode}:\n${err}`);
    try {
      if ((await fetch(readyUrl)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`tracehouse ${args[0]} not ready after 120 s:\n${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    pid: child.pid as number,
    stderr: () => err,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Sums the samples of a Prometheus metric (all label sets). */
export async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

function post(agent: Agent, port: number, body: Buffer, project: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/traces',
        headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length, 'x-tracehouse-project': project },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export interface SendResult {
  latenciesMs: number[];
  wallMs: number;
  retries: number;
}

/** `concurrency` senders over keep-alive connections; 503/429 are retried as an exporter would. */
export async function sendAll(port: number, bodies: readonly Buffer[], project: string, concurrency: number): Promise<SendResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latenciesMs: number[] = [];
  let next = 0;
  let retries = 0;
  const t0 = performance.now();
  const sender = async (): Promise<void> => {
    while (next < bodies.length) {
      const body = bodies[next++] as Buffer;
      const s = performance.now();
      for (;;) {
        const status = await post(agent, port, body, project);
        if (status === 200) break;
        if ((status === 503 || status === 429) && retries < 100_000) {
          retries++;
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        throw new Error(`OTLP request failed with HTTP ${status}`);
      }
      latenciesMs.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, sender));
  agent.destroy();
  return { latenciesMs, wallMs: performance.now() - t0, retries };
}

/** Polls until `done()` or the deadline; returns the time it took. */
export async function waitFor(done: () => Promise<boolean>, timeoutMs: number, pollMs = 100): Promise<number> {
  const t0 = performance.now();
  while (!(await done())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return performance.now() - t0;
}
