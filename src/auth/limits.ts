/**
 * Per-project ingest limits: one token bucket for spans and one for bytes per project, refilled at the
 * configured rate, holding at most one second's worth. A request is admitted while both buckets are
 * positive and then takes what it costs (they may go below zero), so a request larger than a second's
 * worth still passes once the bucket has refilled, and the debt says how long the next one waits.
 */
export interface IngestLimits {
  /** 0: unlimited. */
  spansPerSecond: number;
  /** 0: unlimited. */
  bytesPerSecond: number;
}

export class RateLimited extends Error {
  override name = 'RateLimited';
  constructor(readonly retryAfterSeconds: number) {
    super(`ingest limit of this project reached; retry after ${retryAfterSeconds} s`);
  }
}

interface Bucket {
  spans: number;
  bytes: number;
  at: number;
}

/** Most projects tracked at once; beyond it, idle (full) buckets are forgotten. */
const MAX_BUCKETS = 10_000;

export class IngestLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limits: IngestLimits,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.limits.spansPerSecond > 0 || this.limits.bytesPerSecond > 0;
  }

  /** Takes `spans` and `bytes` from `project`'s buckets, or throws RateLimited with the wait. */
  admit(project: string, spans: number, bytes: number): void {
    if (!this.enabled) return;
    const { spansPerSecond: sr, bytesPerSecond: br } = this.limits;
    const t = this.now();
    let b = this.buckets.get(project);
    if (!b) {
      if (this.buckets.size >= MAX_BUCKETS) this.forgetFull(t);
      b = { spans: sr, bytes: br, at: t };
      this.buckets.set(project, b);
    }
    const dt = Math.max(0, t - b.at) / 1000;
    b.at = t;
    b.spans = Math.min(sr, b.spans + dt * sr);
    b.bytes = Math.min(br, b.bytes + dt * br);
    const waitSpans = sr > 0 && b.spans <= 0 ? -b.spans / sr : 0;
    const waitBytes = br > 0 && b.bytes <= 0 ? -b.bytes / br : 0;
    const wait = Math.max(waitSpans, waitBytes);
    if (wait > 0 || (sr > 0 && b.spans <= 0) || (br > 0 && b.bytes <= 0)) throw new RateLimited(Math.max(1, Math.ceil(wait)));
    if (sr > 0) b.spans -= spans;
    if (br > 0) b.bytes -= bytes;
  }

  private forgetFull(t: number): void {
    for (const [p, b] of this.buckets) {
      if (t - b.at > 1000) this.buckets.delete(p);
    }
    if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear();
  }
}
