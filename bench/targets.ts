/**
 * `npm run bench`: runs the benchmarks issue 14's targets are judged by, one after another (each in its own
 * process: chDB binds one data directory per process), and prints every target's figure beside the
 * baseline measured in the same run and the peers' reference figures.
 *
 *   npx tsx bench/targets.ts [--only ingest,receiver,kafka,search] [--quick] [--baseline-ref REF] [--json]
 *
 * With the optional librdkafka client installed, the receiver and Kafka-path targets are measured on it
 * (`bus.kafka.client: librdkafka`), the receiver beside a same-run kafkajs round.
 *
 * The baseline is the code before issue 14's work (`--baseline-ref`, a commit of this repository): the
 * runner checks it out into a temporary git worktree once, builds it there (sharing this node_modules),
 * and hands its directory to each benchmark as `--base DIR`, which alternates runs of it with runs of
 * this checkout, so both see the same machine at the same time.
 *
 * `--quick` passes each benchmark its smaller workload (minutes instead of tens of minutes), for checking
 * that the runner works; the tables in bench/README.md come from full runs. Exits non-zero when a benchmark
 * fails, not when a target is missed: a missed target is a finding, printed as such.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadLibrdkafka } from '../src/bus/kafka/librdkafka-sender.js';
import { ROOT } from './lib/harness.js';
import { fmt, machineLine } from './lib/stats.js';
import type { TargetFigure } from './lib/targets.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    // main just before issue 14's changes
    'baseline-ref': { type: 'string', default: 'd8a9d8e' },
  },
});

/** A built checkout of the baseline commit, made once per commit and reused by later runs. */
function baselineCheckout(ref: string): string {
  const git = (args: string[], cwd = ROOT): string => {
    const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout.trim();
  };
  const commit = git(['rev-parse', '--verify', `${ref}^{commit}`]);
  const dir = join(tmpdir(), `tracehouse-baseline-${commit.slice(0, 12)}`);
  if (!existsSync(join(dir, 'dist/cli/main.js'))) {
    if (!existsSync(dir)) git(['worktree', 'add', '--detach', dir, commit]);
    if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    process.stderr.write(`building the baseline ${commit.slice(0, 12)} in ${dir}…\n`);
    const b = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: dir, stdio: 'inherit' });
    if (b.status !== 0) throw new Error(`building the baseline in ${dir} failed`);
  }
  return dir;
}

const base = baselineCheckout(values['baseline-ref']);

interface Bench {
  name: string;
  script: string;
  args: string[];
  quickArgs: string[];
  /** How the benchmark is told where the baseline checkout is (none: it has no baseline flag yet). */
  base?: (dir: string) => string[];
}

/** The optional librdkafka client loads here, as a receiver would load it (see README, "The receivers' Kafka client"). */
const librdkafka = (() => {
  try {
    loadLibrdkafka();
    return true;
  } catch {
    return false;
  }
})();

// The order runs cheap, independent figures first; each takes --json and (where it starts the server) --no-build.
const BENCHES: Bench[] = [
  {
    name: 'ingest',
    script: 'bench/ingest.bench.ts',
    args: ['--no-build', '--concurrency', '16', '--requests', '400'],
    quickArgs: ['--requests', '100'],
    base: (dir) => ['--base', dir],
  },
  {
    name: 'receiver',
    script: 'bench/receiver-kafka.bench.ts',
    // The targets on the faster client where it is installed, with the default (kafkajs) beside it.
    args: ['--no-build', ...(librdkafka ? ['--client', 'librdkafka', '--compare-client', 'kafkajs'] : [])],
    quickArgs: ['--quick'],
    base: (dir) => ['--base', dir],
  },
  {
    name: 'kafka',
    script: 'bench/kafka.bench.ts',
    // The load (16 senders), and a backlog long enough that the writer's start-up is a small share.
    args: ['--no-build', '--concurrency', '16', '--requests', '400', '--backlog', '200000', ...(librdkafka ? ['--client', 'librdkafka'] : [])],
    quickArgs: ['--quick'],
    base: (dir) => ['--baseline', dir],
  },
  {
    name: 'search',
    script: 'bench/search.bench.ts',
    // Generating 10M spans takes minutes: the stores are kept and reused by the next run (delete the
    // directory to make them anew, e.g. after a change to the write stage or the schema).
    args: ['--data-dir', join(tmpdir(), 'tracehouse-search-stores'), '--keep'],
    quickArgs: ['--sizes', '100000'],
    base: (dir) => ['--base-src', join(dir, 'src')],
  },
];

const only = values.only ? new Set(values.only.split(',')) : null;
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const figures: Array<TargetFigure & { bench: string }> = [];
const failed: string[] = [];
for (const b of BENCHES) {
  if (only && !only.has(b.name)) continue;
  const args = [...b.args, ...(values.quick ? b.quickArgs : []), ...(b.base?.(base) ?? []), '--json'];
  log(`\n=== ${b.name}: tsx ${b.script} ${args.join(' ')}`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', b.script, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  let parsed: { targets?: TargetFigure[] } | null = null;
  try {
    parsed = JSON.parse(last) as { targets?: TargetFigure[] };
  } catch {
    parsed = null;
  }
  if (r.status !== 0 || !parsed?.targets) {
    failed.push(`${b.name} (exit ${r.status}${parsed && !parsed.targets ? ', no targets in its --json line' : ''})`);
    continue;
  }
  for (const t of parsed.targets) figures.push({ ...t, bench: b.name });
  log(`=== ${b.name}: ${Math.round((Date.now() - t0) / 1000)} s`);
}

if (values.json) {
  process.stdout.write(`${JSON.stringify({ machine: await machineLine(), targets: figures, failed })}\n`);
} else {
  const num = (n: number): string => (Math.abs(n) >= 100 ? fmt(n) : fmt(n, Math.abs(n) >= 10 ? 1 : 2));
  const rows = figures.map((t) => [
    t.target,
    t.metric ?? '',
    `${num(t.figure)} ${t.unit}`,
    t.baseline ? `${num(t.baseline.value)} (${t.baseline.label})` : '',
    t.baseline ? `${fmt(t.figure / t.baseline.value, 2)}×` : '',
    t.reference ? `${num(t.reference.value)} (${t.reference.label})` : '',
    t.goal ?? '',
    t.met === null ? '?' : t.met ? 'met' : 'MISSED',
  ]);
  const head = ['target', 'metric', 'figure', 'baseline, same run', 'ratio', 'reference', 'goal', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  console.log(`\nissue 14 targets  ${await machineLine()}`);
  console.log(line(head));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
  if (failed.length) console.log(`\nfailed: ${failed.join('; ')}`);
}
if (failed.length) process.exitCode = 1;
