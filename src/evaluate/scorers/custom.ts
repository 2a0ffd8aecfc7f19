import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ScorerConfig } from '../config.js';
import type { Scorer, ScorerInput } from './types.js';
import { toResults } from './code.js';

type CustomConfig = Extract<ScorerConfig, { type: 'custom' }>;
type ScorerFn = (input: ScorerInput) => unknown;

/**
 * A scorer from the user's own ES module: its export receives `{ inputs, outputs, expectations, trace }`
 * and returns a value, or `{ value, rationale }`. Loaded once, when the evaluator starts, so a missing
 * module or export stops start-up instead of failing every trace.
 */
export async function createCustomScorer(cfg: CustomConfig, baseDir: string): Promise<Scorer> {
  const path = isAbsolute(cfg.module) ? cfg.module : resolve(baseDir, cfg.module);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`custom scorer "${cfg.name ?? cfg.module}": cannot load ${path}: ${(err as Error).message}`);
  }
  const fn = mod[cfg.export];
  if (typeof fn !== 'function') {
    throw new Error(`custom scorer "${cfg.name ?? cfg.module}": ${path} has no function export "${cfg.export}"`);
  }
  const name = cfg.name ?? (cfg.export === 'default' ? 'custom' : cfg.export);
  return {
    name,
    version: cfg.version,
    sourceType: cfg.source_type,
    sourceId: `${cfg.module}#${cfg.export}`,
    score: async (input) => {
      try {
        return toResults(await (fn as ScorerFn)(input));
      } catch (err) {
        return [{ value: null, rationale: '', error: `custom scorer threw: ${(err as Error).message}` }];
      }
    },
  };
}
