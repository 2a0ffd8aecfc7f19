/**
 * The seed's program with the real MLflow client (oldest supported and newest release) against
 * `tracehouse start` on the inline bus: logging, search, get_trace, genai.evaluate with the seed's five
 * scorers, annotations, tags, deletes, checked through the client and through /api/v1 (test/python).
 */
import { describe, expect, it } from 'vitest';
import { mlflowPythons, runSeedSuite, versionOf } from '../helpers/mlflow-python.js';

const pythons = mlflowPythons();

describe.skipIf(pythons.length === 0)('MLflow client against tracehouse (inline bus)', () => {
  it.each(pythons.map((p) => [versionOf(p), p]))(
    'runs the seed program with mlflow %s',
    async (_v, python) => {
      const r = await runSeedSuite(python as string);
      if (r.code !== 0) console.error(r.output);
      expect(r.code).toBe(0);
      expect(r.output).toMatch(/\d+ passed/);
      expect(r.output).not.toMatch(/\bskipped\b/);
    },
    900_000,
  );
});
