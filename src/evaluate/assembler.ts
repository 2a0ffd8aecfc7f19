/**
 * Tracks the sampled traces whose spans are still arriving and says when each is ready to score: its
 * root span has ended (spans are exported when they end, so "root seen" is "root ended") and nothing
 * arrived for `settleMs`, or `maxWaitMs` passed since its first span. Only sampled traces are held,
 * by id, a few numbers and the ids of their spans (the spans themselves are read back from the store when
 * scored), and at most `maxPending` of them: more are counted as overflow. A trace already handed out is
 * remembered for a while so that late spans do not trigger a second scoring.
 */
export interface PendingTrace<P = unknown> {
  project: string;
  traceId: string;
  firstSeenMs: number;
  lastSpanMs: number;
  rootSeen: boolean;
  /**
   * Distinct spans seen, so the scorer can wait until the store holds at least as many. Distinct: an
   * exporter retry or a redelivery sends the same span again, and the store keeps it once.
   */
  spanCount: number;
  /** Whatever the caller needs back with the trace (e.g. the positions to commit once it is scored). */
  positions: P[];
}

export interface AssemblerOptions {
  settleMs: number;
  maxWaitMs: number;
  maxPending: number;
  /** How many handed-out trace ids to remember against re-triggering. */
  rememberDone?: number;
  /** Traces handed out and not yet scored: they count against maxPending, so overload is bounded too. */
  inFlight?: () => number;
}

export class TraceAssembler<P = unknown> {
  private readonly pending = new Map<string, PendingTrace<P>>();
  /** Span ids seen per pending trace (same keys as `pending`), for the distinct `spanCount`. */
  private readonly spanIds = new Map<string, Set<string>>();
  private readonly done = new Set<string>();
  overflow = 0;
  lateSpans = 0;

  constructor(private readonly opts: AssemblerOptions) {}

  get size(): number {
    return this.pending.size;
  }

  /**
   * Records spans (by span id) of a sampled trace. Returns false when the trace was dropped (overflow) or
   * already scored.
   */
  observe(project: string, traceId: string, hasRoot: boolean, spanIds: Iterable<string>, nowMs: number, position?: P): boolean {
    const key = `${project}\u0000${traceId}`;
    if (this.done.has(key)) {
      this.lateSpans++;
      return false;
    }
    let p = this.pending.get(key);
    if (!p) {
      if (this.pending.size + (this.opts.inFlight?.() ?? 0) >= this.opts.maxPending) {
        this.overflow++;
        return false;
      }
      p = { project, traceId, firstSeenMs: nowMs, lastSpanMs: nowMs, rootSeen: false, spanCount: 0, positions: [] };
      this.pending.set(key, p);
      this.spanIds.set(key, new Set());
    }
    p.lastSpanMs = nowMs;
    const ids = this.spanIds.get(key) as Set<string>;
    for (const id of spanIds) ids.add(id);
    p.spanCount = ids.size;
    if (hasRoot) p.rootSeen = true;
    if (position !== undefined) p.positions.push(position);
    return true;
  }

  /** Removes and returns the traces ready at `nowMs`, oldest first. */
  takeReady(nowMs: number): PendingTrace<P>[] {
    const ready: PendingTrace<P>[] = [];
    for (const [key, p] of this.pending) {
      const settled = p.rootSeen && nowMs - p.lastSpanMs >= this.opts.settleMs;
      if (settled || nowMs - p.firstSeenMs >= this.opts.maxWaitMs) {
        ready.push(p);
        this.pending.delete(key);
        this.spanIds.delete(key);
        this.remember(key);
      }
    }
    return ready.sort((a, b) => a.firstSeenMs - b.firstSeenMs);
  }

  /** Everything still pending (for commit bookkeeping and shutdown). */
  pendingTraces(): IterableIterator<PendingTrace<P>> {
    return this.pending.values();
  }

  private remember(key: string): void {
    this.done.add(key);
    const limit = this.opts.rememberDone ?? 100_000;
    if (this.done.size > limit) {
      // Sets iterate in insertion order: drop the oldest.
      const oldest = this.done.values().next().value;
      if (oldest !== undefined) this.done.delete(oldest);
    }
  }
}
