import { settleBy, type Component, type Deadline } from '../component/component.js';
import { startupError } from '../component/errors.js';

/** One node of a pipeline graph: what it needs built and started before it, and how to build it. */
export interface NodeSpec<Built, K extends keyof Built> {
  /** Nodes that must be in the graph and started first. */
  readonly needs: readonly (keyof Built)[];
  /** Nodes used when present (started first if so). */
  readonly uses?: readonly (keyof Built)[];
  create(ctx: BuildContext<Built>): Built[K];
}

/** What a node's `create` sees: the started nodes it may take, by id. */
export interface BuildContext<Built> {
  get<N extends keyof Built>(id: N): Built[N];
  find<N extends keyof Built>(id: N): Built[N] | undefined;
}

export type NodeTable<Built> = { readonly [K in keyof Built]: NodeSpec<Built, K> };

export class GraphError extends startupError('PIPELINE_GRAPH_INVALID') {
  override name = 'GraphError';
}

/**
 * Orders the chosen nodes so that each comes after everything it needs or uses (Kahn's algorithm, ties
 * kept in the order given). A missing need or a cycle is a configuration error, reported by name.
 */
export function orderNodes<Built>(table: NodeTable<Built>, chosen: readonly (keyof Built)[]): (keyof Built)[] {
  const set = new Set(chosen);
  const deps = new Map<keyof Built, (keyof Built)[]>();
  for (const id of chosen) {
    const spec = table[id];
    for (const n of spec.needs) {
      if (!set.has(n)) throw new GraphError(`${String(id)} needs ${String(n)}, which this configuration does not run`);
    }
    deps.set(id, [...spec.needs, ...(spec.uses ?? []).filter((u) => set.has(u))]);
  }
  const order: (keyof Built)[] = [];
  const placed = new Set<keyof Built>();
  while (order.length < chosen.length) {
    const next = chosen.find((id) => !placed.has(id) && (deps.get(id) ?? []).every((d) => placed.has(d)));
    if (next === undefined)
      throw new GraphError(
        `the pipeline graph has a cycle among ${chosen
          .filter((id) => !placed.has(id))
          .map(String)
          .join(', ')}`,
      );
    order.push(next);
    placed.add(next);
  }
  return order;
}

/** A started graph: its components by id, stoppable in reverse start order. */
export class RunningGraph<Built> {
  private constructor(
    private readonly built: Partial<Built>,
    private readonly started: (keyof Built)[],
    private readonly onStepError: (id: keyof Built, err: unknown) => void,
  ) {}

  find<N extends keyof Built>(id: N): Built[N] | undefined {
    return this.built[id];
  }

  /**
   * Builds and starts each node in graph order: a node is created only once everything it needs has
   * started, so its factory can take live clients. If any start fails, what started is stopped again
   * (in reverse) before the error is rethrown.
   */
  static async start<Built>(
    table: NodeTable<Built>,
    order: readonly (keyof Built)[],
    opts: { onStarted?: (id: keyof Built, c: Component) => void; onStepError: (id: keyof Built, err: unknown) => void; failDeadline: () => Deadline },
  ): Promise<RunningGraph<Built>> {
    const built: Partial<Built> = {};
    const started: (keyof Built)[] = [];
    const graph = new RunningGraph<Built>(built, started, opts.onStepError);
    const ctx: BuildContext<Built> = {
      get: (id) => {
        const c = built[id];
        if (c === undefined) throw new GraphError(`${String(id)} is not built yet`);
        return c as Built[typeof id];
      },
      find: (id) => built[id],
    };
    for (const id of order) {
      try {
        const c = table[id].create(ctx);
        built[id] = c;
        started.push(id);
        await (c as Component).start();
        opts.onStarted?.(id, c as Component);
      } catch (err) {
        await graph.shutdown(opts.failDeadline());
        throw err;
      }
    }
    return graph;
  }

  /**
   * Stops every node in reverse start order (receivers first, the store last), all under one deadline.
   * A failing step is reported and the rest still stop.
   */
  async shutdown(deadline: Deadline): Promise<void> {
    for (const id of this.started.splice(0).reverse()) {
      const c = this.built[id] as Component;
      let stopping: Promise<void>;
      try {
        stopping = c.shutdown(deadline);
      } catch (err) {
        stopping = Promise.reject(err);
      }
      stopping.catch((err: unknown) => this.onStepError(id, err));
      // Each component bounds itself; this guards the graph against one that does not.
      await settleBy(stopping, deadline);
    }
  }
}
