/**
 * The ingest benchmark's request sets, defined by a few numbers so the server run and the ceiling
 * process (a separate process, since chDB binds one data directory per process) rebuild identical spans.
 */
import { generateRequests, type GeneratedTrace } from './genai-spans.js';

export interface Workload {
  seed: number;
  /** Newest trace start (epoch ms), fixed by the parent so both processes agree. */
  endMs: number;
  windowMs: number;
  requests: number;
  spansPerRequest: number;
  textScale: number;
}

export function buildWorkload(w: Workload): { bodies: Buffer[]; traces: GeneratedTrace[]; spans: number } {
  return generateRequests({ ...w, traces: Math.ceil((w.requests * w.spansPerRequest) / 3) });
}

/** The warm-up set: same shape, another seed, so it never collides with the measured spans. */
export const warmupOf = (w: Workload, requests: number): Workload => ({ ...w, seed: w.seed + 1_000_003, requests });
