import { z } from 'zod';
import type { EvaluatorStatus } from '../assessments/status.js';
import { ApiError } from './errors.js';
import { parseWith, projectSchema, queryObject, timeParam } from './params.js';
import type { Route } from './server.js';

const statusQuery = z.object({ project: projectSchema, from: timeParam.optional(), to: timeParam.optional() }).strict();

/** GET /api/v1/evaluator/status: each scorer's verdicts, errors, pending traces, lag and judge spend over a range (24 h by default). */
export function evaluatorStatusRoutes(status: (p: { project: string; fromNs: bigint; toNs: bigint }) => Promise<EvaluatorStatus>): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/api\/v1\/evaluator\/status$/,
      auth: 'read',
      handler: async (_req, url) => {
        const q = parseWith(statusQuery, queryObject(url.searchParams));
        const toNs = q.to ?? BigInt(Date.now()) * 1_000_000n;
        const fromNs = q.from ?? toNs - 86_400_000_000_000n;
        if (fromNs >= toNs) throw new ApiError('INVALID_PARAMETER', '`from` must be before `to`', { parameter: 'from' });
        return await status({ project: q.project, fromNs, toNs });
      },
    },
  ];
}
