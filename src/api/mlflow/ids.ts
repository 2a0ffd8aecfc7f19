import { createHash } from 'node:crypto';
import { DEFAULT_PROJECT } from '../../model/project.js';
import { MlflowError } from './errors.js';

/** MLflow's name for a trace id: `tr-` and the OTel trace id's 32 hex characters. */
export const mlflowTraceId = (hex: string): string => `tr-${hex}`;

/** The OTel hex id of a trace id the client sent in either form; a 400 for anything else. */
export function hexTraceId(id: unknown, field = 'trace_id'): string {
  const s = typeof id === 'string' ? id.trim().toLowerCase() : '';
  const hex = s.startsWith('tr-') ? s.slice(3) : s;
  if (!/^[0-9a-f]{32}$/.test(hex)) {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `${field} must be tr- and 32 hex characters (or the 32 hex characters), got ${JSON.stringify(String(id ?? '')).slice(0, 80)}`,
    );
  }
  return hex;
}

/** Experiment 0 is MLflow's Default experiment: tracehouse's default project. */
export const DEFAULT_EXPERIMENT_ID = '0';
export const DEFAULT_EXPERIMENT_NAME = 'Default';

/**
 * An experiment's id, derived from its project name alone, so every process (and every restart) names the
 * same project with the same id without asking anyone: 52 bits of SHA-256, in decimal as MLflow's ids are.
 */
export function experimentIdFor(project: string): string {
  if (project === DEFAULT_PROJECT) return DEFAULT_EXPERIMENT_ID;
  const n = BigInt(`0x${createHash('sha256').update(project).digest('hex').slice(0, 13)}`);
  // Never 0 (the Default experiment's id), and never a leading-zero string: a plain decimal.
  return (n === 0n ? 1n : n).toString();
}

/** The project an experiment name stands for (MLflow's "Default" is tracehouse's "default"). */
export const projectForName = (name: string): string => (name === DEFAULT_EXPERIMENT_NAME ? DEFAULT_PROJECT : name);
export const nameForProject = (project: string): string => (project === DEFAULT_PROJECT ? DEFAULT_EXPERIMENT_NAME : project);
