/**
 * The seed's program with the real MLflow client against `tracehouse start --bus kafka`: the spans the
 * client exports to the API port go receiver → Kafka → writer before search and get_trace read them.
 */
import { describe, expect, inject, it } from 'vitest';
import { isolatedKafka } from '../helpers/kafka.js';
import { mlflowPythons, runSeedSuite, versionOf } from '../helpers/mlflow-python.js';

const brokers = inject('kafkaBrokers');
const pythons = mlflowPythons();
// The newest client is enough here: the bus under the API does not depend on the client's version.
const newest = pythons.slice(-1);

describe.skipIf(!brokers || newest.length === 0)('MLflow client against tracehouse (Kafka bus)', () => {
  it.each(newest.map((p) => [versionOf(p), p]))(
    'runs the seed program with mlflow %s',
    async (_v, python) => {
      const r = await runSeedSuite(python as string, isolatedKafka(brokers));
      if (r.code !== 0) console.error(r.output);
      expect(r.code).toBe(0);
      expect(r.output).toMatch(/\d+ passed/);
      expect(r.output).not.toMatch(/\bskipped\b/);
    },
    900_000,
  );
});
