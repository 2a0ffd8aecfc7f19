import type { Logger } from 'pino';
import type { IngestBatch, SpanIdGroup } from '../component/consumer.js';
import type { BatchObserver } from '../component/fan-out.js';
import type { AssessmentStore } from '../assessments/store.js';
import type { TraceReader } from '../query/trace-reader.js';
import type { Metrics } from '../component/telemetry/metrics.js';
import type { EvaluatorConfig } from './config.js';
import { TraceAssembler, type PendingTrace } from './assembler.js';
import { isSampled } from './sampling.js';
import { Limiter } from './limiter.js';
import { scoreTrace } from './score-trace.js';
import type { ConfiguredScorer } from './scorers/index.js';
import type { AssessmentRecord } from '../assessments/model.js';
import { errorCode } from '../component/errors.js';
import { retry, RetryGaveUp, type Backoff } from '../component/retry.js';

/** A trace whose scoring failed (the store unreachable) is queued again after this backoff. */
const SCORING_RETRY: Backoff = { baseMs: 5_000, maxMs: 60_000 };
/** Writing verdicts (they cost judge calls) is retried sooner and for as long as the evaluator runs. */
const WRITE_RETRY: Backoff = { baseMs: 500, maxMs: 30_000 };
/** Writes still get this many tries once shutting down, bounded by the shutdown deadline. */
const WRITE_TRIES_WHEN_STOPPING = 3;

export interface EvaluatorDeps {
  reader: TraceReader;
  store: AssessmentStore;
  scorers: ConfiguredScorer[];
  metrics: Metrics;
  log: Logger;
}

/**
 * Online evaluation: watches spans as they are written, holds the sampled traces until they settle, then
 * scores them with every scorer that sampled them and whose filter matches, and writes the assessments.
 * It runs beside ingestion with its own concurrency limit; nothing it does blocks a write.
 */
export class Evaluator<P = unknown> implements BatchObserver {
  readonly assembler: TraceAssembler<P>;
  private readonly limiter: Limiter;
  private readonly traceLimiter: Limiter;
  private readonly maxRate: number;
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly queuedSince: number[] = [];
  private stopped = false;
  /** Aborted on shutdown: ends the waits between scoring retries at once. */
  private readonly stopping = new AbortController();
  /** Seconds to wait for the writer to catch up with a trace before scoring what is there. */
  storeWaitTries = 60;
  private readonly scoring = new Set<PendingTrace<P>>();
  /** Called with each trace once its assessments are durable (the Kafka evaluator commits offsets here). */
  onScored: ((trace: PendingTrace<P>) => void) | null = null;

  constructor(
    private readonly cfg: Pick<EvaluatorConfig, 'settle_ms' | 'max_wait_ms' | 'max_pending_traces' | 'concurrency'>,
    private readonly deps: EvaluatorDeps,
  ) {
    this.assembler = new TraceAssembler<P>({
      settleMs: cfg.settle_ms,
      maxWaitMs: cfg.max_wait_ms,
      maxPending: cfg.max_pending_traces,
      inFlight: () => this.scoring.size,
    });
    this.limiter = new Limiter(cfg.concurrency);
    this.traceLimiter = new Limiter(cfg.concurrency);
    this.maxRate = Math.max(0, ...deps.scorers.map((s) => s.sampleRate));
  }

  observe(batch: IngestBatch, position?: P): void {
    this.observeIds(batch.spans, position);
  }

  /** observe() for spans known by their ids only (the Kafka source scans just those off the wire). */
  observeIds(groups: Iterable<SpanIdGroup>, position?: P): void {
    if (this.stopped || this.deps.scorers.length === 0) return;
    const now = Date.now();
    for (const group of groups) {
      // One observe per trace per group: most groups hold a handful of traces.
      const traces = new Map<string, { root: boolean; spanIds: string[] }>();
      for (const s of group.spans) {
        const t = traces.get(s.traceId);
        if (t) {
          t.spanIds.push(s.spanId);
          t.root ||= s.parentSpanId === '';
        } else traces.set(s.traceId, { root: s.parentSpanId === '', spanIds: [s.spanId] });
      }
      for (const [traceId, t] of traces) {
        if (isSampled(traceId, this.maxRate)) this.assembler.observe(group.project, traceId, t.root, t.spanIds, now, position);
      }
    }
    this.deps.metrics.evalPending.set(this.assembler.size);
  }

  start(tickMs = Math.max(50, Math.min(1000, Math.floor(this.cfg.settle_ms / 4) || 50))): void {
    if (this.timer || this.deps.scorers.length === 0) return;
    let reportedOverflow = 0;
    this.timer = setInterval(() => {
      const ready = this.assembler.takeReady(Date.now());
      for (const t of ready) this.schedule(t);
      const overflow = this.assembler.overflow - reportedOverflow;
      if (overflow > 0) this.deps.metrics.evalOverflow.inc(overflow);
      reportedOverflow = this.assembler.overflow;
      this.deps.metrics.evalPending.set(this.assembler.size);
      this.deps.metrics.evalQueued.set(this.traceLimiter.waiting);
      const oldest = this.queuedSince[0];
      this.deps.metrics.evalLag.set(oldest === undefined ? 0 : (Date.now() - oldest) / 1000);
    }, tickMs);
    this.timer.unref();
  }

  /** Positions of every trace not yet scored (waiting, queued or being scored): what must not be committed. */
  outstandingPositions(): P[] {
    const out: P[] = [];
    for (const t of this.assembler.pendingTraces()) out.push(...t.positions);
    for (const t of this.scoring) out.push(...t.positions);
    return out;
  }

  /** Traces ready or being scored, for tests and the benchmark. */
  get busy(): number {
    return this.inFlight.size;
  }

  private schedule(trace: PendingTrace<P>): void {
    const { log } = this.deps;
    this.scoring.add(trace);
    const task = retry(() => this.queueAndScore(trace), {
      backoff: SCORING_RETRY,
      signal: this.stopping.signal,
      running: () => !this.stopped,
      // The store was unreachable: the trace stays outstanding (never committed past) and is tried again.
      onRetry: ({ error, delayMs }) =>
        log.error(
          { err: (error as Error).message, code: errorCode(error), trace_id: trace.traceId, wait_ms: Math.round(delayMs) },
          'evaluator: scoring failed; will retry',
        ),
    })
      .then(
        () => {
          this.scoring.delete(trace);
        },
        (err: unknown) => {
          // Stopped: the trace stays outstanding, so the Kafka evaluator scores it after a restart.
          if (!(err instanceof RetryGaveUp) || err.reason !== 'permanent') return;
          // Retrying cannot help (the store refused the verdicts as invalid): let the trace go, loudly.
          log.error(
            { err: (err.error as Error).message, code: errorCode(err.error), trace_id: trace.traceId },
            'evaluator: scoring failed permanently; not retried',
          );
          this.scoring.delete(trace);
          this.onScored?.(trace);
        },
      )
      .finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
  }

  /** One try: waits for a scorer slot, then scores. */
  private queueAndScore(trace: PendingTrace<P>): Promise<void> {
    const readyAt = Date.now();
    this.queuedSince.push(readyAt);
    return this.traceLimiter.run(async () => {
      this.queuedSince.splice(this.queuedSince.indexOf(readyAt), 1);
      await this.scoreOne(trace);
    });
  }

  private async scoreOne(t: PendingTrace<P>): Promise<void> {
    const { reader, metrics, log } = this.deps;
    // On the Kafka bus the evaluator reads the topic beside the writer: wait (bounded) until the store
    // holds every span the evaluator saw, so the judges see the whole trace.
    let trace = await reader.getTraceRecord(t.project, t.traceId);
    for (let i = 0; i < this.storeWaitTries && (!trace || trace.spans.length < t.spanCount) && !this.stopped; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      trace = await reader.getTraceRecord(t.project, t.traceId);
    }
    if (!trace) {
      log.warn({ trace_id: t.traceId }, 'evaluator: trace not found in the store; skipped');
      this.onScored?.(t);
      return;
    }
    const chosen = [];
    for (const c of this.deps.scorers) {
      if (!isSampled(t.traceId, c.sampleRate)) continue;
      if (c.filter && !(await reader.matches(t.project, t.traceId, c.filter))) continue;
      chosen.push(c.scorer);
    }
    if (chosen.length) {
      const records = await scoreTrace(t.project, trace, chosen, this.limiter);
      await this.writeWithRetry(records);
      for (const r of records) {
        metrics.evalAssessments.inc({ scorer: r.name, outcome: r.error ? 'error' : 'ok' });
        const m = r.metadata;
        if (m.judge_model) {
          metrics.judgeTokens.inc({ model: m.judge_model, direction: 'input' }, Number(m.judge_input_tokens ?? 0));
          metrics.judgeTokens.inc({ model: m.judge_model, direction: 'output' }, Number(m.judge_output_tokens ?? 0));
          if (m.judge_cost_usd) metrics.judgeCost.inc({ model: m.judge_model }, Number(m.judge_cost_usd));
        }
      }
    }
    metrics.evalTracesScored.inc();
    this.onScored?.(t);
  }

  /**
   * The store may be briefly unavailable: keep the verdicts (they cost judge calls) and retry. Verdicts it
   * refuses as invalid are counted and not retried: no retry could store them.
   */
  private async writeWithRetry(records: AssessmentRecord[]): Promise<void> {
    try {
      await retry(() => this.deps.store.insert(records), {
        backoff: WRITE_RETRY,
        running: (tries) => !this.stopped || tries < WRITE_TRIES_WHEN_STOPPING,
        onRetry: ({ error, tries }) =>
          this.deps.log.warn({ err: (error as Error).message, code: errorCode(error), attempt: tries - 1 }, 'evaluator: writing assessments failed; retrying'),
      });
    } catch (err) {
      if (!(err instanceof RetryGaveUp)) throw err;
      if (err.reason === 'permanent') for (const r of records) this.deps.metrics.evalAssessmentsRefused.inc({ scorer: r.name });
      throw err.error;
    }
  }

  /** Stops taking traces and waits (up to `deadlineMs`) for the ones being scored. */
  async shutdown(deadlineMs = 10_000): Promise<void> {
    this.stopped = true;
    this.stopping.abort(new Error('the evaluator is shutting down'));
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const all = Promise.allSettled([...this.inFlight]);
    await Promise.race([all, new Promise((r) => setTimeout(r, deadlineMs).unref())]);
  }
}
