import { msLeft, Once, type Component, type Deadline, type Factory } from '../component/component.js';
import type { IngestBatch } from '../component/consumer.js';
import type { BatchObserver } from '../component/fan-out.js';
import type { Telemetry } from '../component/telemetry/index.js';
import { AssessmentStore } from '../assessments/store.js';
import type { ClickHouseStore } from '../exporters/clickhouse/store.js';
import { TraceReader } from '../query/trace-reader.js';
import type { EvaluatorConfig } from './config.js';
import { Evaluator } from './evaluator.js';
import { createScorers } from './scorers/index.js';

/**
 * Online evaluation as a component. Scorers are loaded in `start()` (a custom scorer is a module import,
 * and a judge needs its client), so a bad scorer stops the process at start-up with its name.
 * `P` is what the bus hands back with each trace (Kafka positions to commit; nothing inline).
 */
export class EvaluatorStage<P = unknown> implements Component, BatchObserver {
  private current: Evaluator<P> | null = null;
  private readonly stopping = new Once();

  constructor(
    private readonly cfg: EvaluatorConfig,
    private readonly store: ClickHouseStore,
    private readonly telemetry: Telemetry,
    /** Where custom scorer modules named relatively are looked up. */
    private readonly baseDir: string,
  ) {}

  /** The running evaluator; its sources (the inline bus, the Kafka source) are built after start. */
  get evaluator(): Evaluator<P> {
    if (!this.current) throw new Error('the evaluator is not started');
    return this.current;
  }

  async start(): Promise<void> {
    const { metrics, log } = this.telemetry;
    const scorers = await createScorers(this.cfg, this.baseDir);
    const reader = new TraceReader(this.store.reader);
    const store = new AssessmentStore(this.store.writer, this.store.reader);
    const ev = new Evaluator<P>(this.cfg, { reader, store, scorers, metrics, log });
    ev.start();
    this.current = ev;
    log.info({ scorers: scorers.map((s) => s.scorer.name) }, 'evaluator started');
  }

  observe(batch: IngestBatch): void {
    this.current?.observe(batch);
  }

  /** Stops taking traces; the ones being scored get until the deadline. */
  shutdown(deadline: Deadline): Promise<void> {
    return this.stopping.run(async () => {
      await this.current?.shutdown(msLeft(deadline));
    });
  }
}

export function evaluatorFactory<P>(): Factory<EvaluatorConfig, { store: ClickHouseStore; telemetry: Telemetry; baseDir: string }, EvaluatorStage<P>> {
  return {
    type: 'evaluator',
    create: (cfg, { store, telemetry, baseDir }) => new EvaluatorStage<P>(cfg, store, telemetry, baseDir),
  };
}

/** Scoring runs only when it is on and some scorer is configured. */
export const evaluatorWanted = (cfg: EvaluatorConfig): boolean => cfg.enabled && cfg.scorers.length > 0;
