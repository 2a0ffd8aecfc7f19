/** Small statistics and formatting helpers shared by the benchmarks. */

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

export const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : String(n);

export const mb = (bytes: number): number => bytes / 1e6;

/** Machine facts printed with every result, since numbers from this noisy 2-core box vary run to run. */
export async function machineLine(): Promise<string> {
  const os = await import('node:os');
  const cpus = os.cpus();
  return `${new Date().toISOString()}  node ${process.version}  ${cpus.length} cpu(s) ${cpus[0]?.model ?? ''}  ${fmt(os.totalmem() / 2 ** 30, 1)} GiB  load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
}
