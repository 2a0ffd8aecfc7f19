import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { deadlineIn, settleBy, type Component } from '../../src/component/component.js';
import { Metrics } from '../../src/component/telemetry/metrics.js';
import { createLogger } from '../../src/component/telemetry/logger.js';
import { Readiness } from '../../src/component/telemetry/ops.js';
import { loadConfig } from '../../src/config/load.js';
import { orderNodes, RunningGraph, type BuildContext } from '../../src/service/graph.js';
import { nodeTable, type NodeId, type Nodes } from '../../src/service/nodes.js';
import { isolatedKafka } from '../helpers/kafka.js';
import { localOverrides, removeDir } from '../helpers/app.js';

const brokers = inject('kafkaBrokers');
const dataDir = mkdtempSync(join(tmpdir(), 'tracehouse-lifecycle-'));
afterAll(() => removeDir(dataDir));

/**
 * Every component in the service's factory table keeps the contract: shutdown before start resolves,
 * start then shutdown twice resolves both calls (the second does nothing more), and a shutdown given a
 * deadline that has already passed still returns instead of waiting for what it closes.
 */
describe.skipIf(!brokers)('component lifecycle, for every node of the factory table', () => {
  const config = loadConfig({
    env: {},
    overrides: {
      ...isolatedKafka(brokers),
      ...localOverrides(dataDir),
      'evaluator.scorers': [{ type: 'error_free' }],
    },
  });
  const log = createLogger('silent');
  const table = nodeTable({ config, telemetry: { metrics: new Metrics(), log }, readiness: new Readiness(), baseDir: process.cwd() });
  const ids = Object.keys(table) as NodeId[];

  /** Everything a node needs or uses, transitively: started before the node under test is built. */
  const prerequisites = (id: NodeId): NodeId[] => {
    const seen = new Set<NodeId>();
    const visit = (n: NodeId): void => {
      for (const d of [...table[n].needs, ...(table[n].uses ?? [])]) {
        if (d === id || seen.has(d)) continue;
        seen.add(d);
        visit(d);
      }
    };
    visit(id);
    return ids.filter((n) => seen.has(n));
  };

  it('covers every node id', () => {
    expect(ids.sort()).toEqual(
      [
        'api',
        'auth',
        'evaluator',
        'inlineBus',
        'kafkaEvaluatorSource',
        'kafkaProducer',
        'kafkaWriter',
        'otlpReceiver',
        'store',
        'storeWriter',
        'telemetry',
      ].sort(),
    );
  });

  it.each(ids)('%s: shutdown before start, twice after start, and by a passed deadline', async (id) => {
    const deps = await RunningGraph.start(table, orderNodes(table, prerequisites(id)), {
      onStepError: (n, err) => {
        throw new Error(`${String(n)} failed to stop: ${String(err)}`);
      },
      failDeadline: () => deadlineIn(15_000),
    });
    try {
      const ctx: BuildContext<Nodes> = {
        get: (n) => {
          const c = deps.find(n);
          if (c === undefined) throw new Error(`${n} not started`);
          return c;
        },
        find: (n) => deps.find(n),
      };
      const build = (): Component => table[id].create(ctx);

      const never = build();
      await never.shutdown(deadlineIn(5_000));
      await never.shutdown(deadlineIn(5_000));

      const c = build();
      await c.start();
      const first = c.shutdown(deadlineIn(15_000));
      const second = c.shutdown(deadlineIn(15_000));
      await expect(first).resolves.toBeUndefined();
      await expect(second).resolves.toBeUndefined();
      await expect(c.shutdown(deadlineIn(15_000))).resolves.toBeUndefined();

      // A deadline in the past: the component must return at once rather than wait out what it closes.
      // The 20 s watchdog is a bound for a loaded machine, not a measurement.
      const late = build();
      await late.start();
      expect(await settleBy(late.shutdown(Date.now() - 1), deadlineIn(20_000))).toBe(true);
    } finally {
      await deps.shutdown(deadlineIn(15_000));
    }
  });
});
