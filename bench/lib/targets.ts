/**
 * The figures issue 14's targets are judged by, in one shape every benchmark emits under `targets` in its
 * `--json` line, so `bench/targets.ts` (what `npm run bench` runs) can print them side by side: the figure,
 * the baseline measured in the same run, a fixed reference (the peers' figures from the issue) and the goal.
 */
export interface TargetFigure {
  /** The target number and a short name, e.g. "1 receiver → Kafka". */
  target: string;
  /** What was measured, e.g. "spans/s acknowledged". */
  metric: string;
  figure: number;
  unit: string;
  /** Measured in the same run: the old code path, the JSONEachRow ceiling, steady ingest… */
  baseline?: { label: string; value: number };
  /** A figure from elsewhere (the Collector or MLflow numbers), not measured by this run. */
  reference?: { label: string; value: number };
  /** The goal in words, e.g. "≥ 2× baseline", "p95 ≤ 15 ms". */
  goal: string;
  /** Whether this run meets the goal; null when the run cannot tell. */
  met: boolean | null;
}

/** A figure whose goal is a ratio to its same-run baseline (at least `min`×, or at most when `max`). */
export function ratioTarget(
  t: Omit<TargetFigure, 'goal' | 'met'> & { baseline: { label: string; value: number } },
  bound: { min?: number; max?: number },
): TargetFigure {
  const ratio = t.figure / t.baseline.value;
  const okMin = bound.min === undefined || ratio >= bound.min;
  const okMax = bound.max === undefined || ratio <= bound.max;
  const goal = [bound.min !== undefined ? `≥ ${bound.min}× ${t.baseline.label}` : '', bound.max !== undefined ? `≤ ${bound.max}× ${t.baseline.label}` : '']
    .filter(Boolean)
    .join(', ');
  return { ...t, goal, met: Number.isFinite(ratio) ? okMin && okMax : null };
}

/** A figure with an absolute bound (at most `max`, or at least `min`). */
export function boundTarget(t: Omit<TargetFigure, 'goal' | 'met'>, bound: { min?: number; max?: number }): TargetFigure {
  const okMin = bound.min === undefined || t.figure >= bound.min;
  const okMax = bound.max === undefined || t.figure <= bound.max;
  const goal = [bound.min !== undefined ? `≥ ${bound.min} ${t.unit}` : '', bound.max !== undefined ? `≤ ${bound.max} ${t.unit}` : '']
    .filter(Boolean)
    .join(', ');
  return { ...t, goal, met: Number.isFinite(t.figure) ? okMin && okMax : null };
}
