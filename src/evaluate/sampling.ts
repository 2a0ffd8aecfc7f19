import { createHash } from 'node:crypto';

/**
 * Where a trace falls in [0, 1), from its id alone. Every scorer compares the same number with its own
 * `sample_rate`, so sampling is deterministic (restarts and replicas agree) and nested: a trace picked by a
 * scorer at 10% is also picked by every scorer at a higher rate, so low-rate judges always have the
 * cheap checks to compare against. (Mixing the scorer name into the hash would make the samples
 * independent and lose that nesting.)
 */
export function samplePoint(traceId: string): number {
  const h = createHash('sha256').update(traceId).digest();
  // 48 bits are plenty of resolution and stay exact in a double.
  return h.readUIntBE(0, 6) / 2 ** 48;
}

export function isSampled(traceId: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  return samplePoint(traceId) < rate;
}

/** Assessment id of a scorer's result on a trace: re-scoring the same trace rewrites the same assessment. */
export function scorerAssessmentId(project: string, traceId: string, scorer: string, version: string, key = ''): string {
  const h = createHash('sha256').update(`${project}\u0000${traceId}\u0000${scorer}\u0000${version}\u0000${key}`).digest('hex');
  return `e-${h.slice(0, 32)}`;
}
