/**
 * What the ingest report's write-time counters (writer.ingest_report) cost: bench/ingest.bench.ts run
 * alternately with them on and off in one run, so machine noise falls on both sides alike.
 *
 *   npx tsx bench/ingest-report.bench.ts [--rounds 3] [--requests 200] [--no-build]
 *
 * Reports the median end-to-end spans/s and server CPU seconds per 100k spans of each side, and the
 * on/off ratios (throughput cost = 1 - spans/s ratio).
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { ROOT, ensureBuilt } from './lib/harness.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    requests: { type: 'string', default: '200' },
    'no-build': { type: 'boolean', default: false },
  },
});

interface Run {
  spansPerSec: number;
  serverCpuSecondsPer100k: number;
}

function once(on: boolean): Run {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/ingest.bench.ts', '--json', '--no-ceiling', '--no-build', '--requests', values.requests], {
    cwd: ROOT,
    env: { ...process.env, TRACEHOUSE_INGEST_REPORT: on ? 'true' : 'false' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`ingest bench failed (${r.status}):\n${r.stderr.slice(-4000)}`);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as Run;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

ensureBuilt(!values['no-build']);
const on: Run[] = [];
const off: Run[] = [];
for (let i = 0; i < Number(values.rounds); i++) {
  // Alternate which side goes first, so a trend over the run does not favour one.
  for (const side of i % 2 === 0 ? [true, false] : [false, true]) {
    const run = once(side);
    (side ? on : off).push(run);
    process.stderr.write(
      `round ${i + 1} ingest_report=${side ? 'on ' : 'off'}: ${run.spansPerSec.toFixed(0)} spans/s, ${run.serverCpuSecondsPer100k.toFixed(2)} cpu-s/100k\n`,
    );
  }
}
const tput = median(on.map((r) => r.spansPerSec)) / median(off.map((r) => r.spansPerSec));
const cpu = median(on.map((r) => r.serverCpuSecondsPer100k)) / median(off.map((r) => r.serverCpuSecondsPer100k));
console.log(`ingest_report on/off: throughput ratio ${tput.toFixed(3)} (cost ${((1 - tput) * 100).toFixed(1)}%), server CPU per span ratio ${cpu.toFixed(3)}`);
console.log(`  on:  ${on.map((r) => r.spansPerSec.toFixed(0)).join(' ')} spans/s`);
console.log(`  off: ${off.map((r) => r.spansPerSec.toFixed(0)).join(' ')} spans/s`);
