import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { deadlineIn, hasReadyCheck, type Deadline } from '../component/component.js';
import { Metrics } from '../component/telemetry/metrics.js';
import { Readiness } from '../component/telemetry/ops.js';
import type { Evaluator } from '../evaluate/evaluator.js';
import type { SpanPosition } from '../bus/kafka/evaluator-source.js';
import type { ClickHouseStore } from '../exporters/clickhouse/store.js';
import { orderNodes, RunningGraph } from './graph.js';
import type { ApiServer } from '../api/server.js';
import { nodeTable, type NodeId, type Nodes } from './nodes.js';
import { nodesFor, ROLES, type Role } from './roles.js';

/** How long a whole process may take to stop, receivers draining first and the store closing last. */
export const SHUTDOWN_MS = 15_000;

/** `/readyz` names its checks as it always has. */
const READY_AS: Partial<Record<NodeId, string>> = {
  store: 'store',
  kafkaWriter: 'kafka-consumer',
  kafkaEvaluatorSource: 'kafka-evaluator-consumer',
  kafkaProducer: 'kafka',
  auth: 'auth',
};

/**
 * One tracehouse process: the graph of components its roles need, built from config, started in graph
 * order (store, writer, evaluator, bus, API, receivers) so nothing is accepted before the stage that will
 * hold it is up, and stopped in reverse, receivers first (answering 503/UNAVAILABLE while the rest drains).
 */
export class Service {
  private stopped: Promise<void> | null = null;

  private constructor(
    readonly config: Readonly<Config>,
    readonly roles: readonly Role[],
    readonly nodes: readonly NodeId[],
    readonly metrics: Metrics,
    private readonly graph: RunningGraph<Nodes>,
  ) {}

  static async start(config: Readonly<Config>, log: Logger, roles: readonly Role[] = ROLES, baseDir = process.cwd()): Promise<Service> {
    const metrics = new Metrics();
    const readiness = new Readiness();
    const table = nodeTable({ config, telemetry: { metrics, log }, readiness, baseDir });
    const order = orderNodes(table, nodesFor(config, roles));
    const graph = await RunningGraph.start(table, order, {
      onStarted: (id, c) => {
        const name = READY_AS[id];
        if (name && hasReadyCheck(c)) readiness.add(name, () => c.ready());
      },
      onStepError: (id, err) => log.error({ err, component: id }, 'shutdown step failed'),
      failDeadline: () => deadlineIn(SHUTDOWN_MS),
    });
    return new Service(config, roles, order, metrics, graph);
  }

  get store(): ClickHouseStore | null {
    return this.graph.find('store') ?? null;
  }

  /** The running evaluator, when this process scores traces. */
  get evaluator(): Evaluator<SpanPosition> | null {
    return this.graph.find('evaluator')?.evaluator ?? null;
  }

  /** The API server, when this process serves it (its route list is what the auth table test walks). */
  get api(): ApiServer | null {
    return this.graph.find('api') ?? null;
  }

  /** Bound ports; null for a listener this process does not run. */
  get ports(): { grpc: number | null; http: number | null; api: number | null; telemetry: number | null } {
    const otlp = this.graph.find('otlpReceiver')?.ports;
    return {
      grpc: otlp?.grpc ?? null,
      http: otlp?.http ?? null,
      api: this.graph.find('api')?.port ?? null,
      telemetry: this.graph.find('telemetry')?.port ?? null,
    };
  }

  /** Stops every component in reverse start order under one deadline. Idempotent. */
  shutdown(deadline: Deadline = deadlineIn(SHUTDOWN_MS)): Promise<void> {
    return (this.stopped ??= this.graph.shutdown(deadline));
  }
}
