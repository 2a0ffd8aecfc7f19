import { z } from 'zod';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Metrics } from '../component/telemetry/metrics.js';
import { ingestReport } from '../query/ingest-report.js';
import { ApiError } from './errors.js';
import { parseWith, projectSchema, queryObject, timeParam } from './params.js';
import type { Route } from './server.js';

const reportQuerySchema = z
  .object({
    project: projectSchema,
    from: timeParam.optional(),
    to: timeParam.optional(),
    top_keys: z.coerce.number().int().min(1).max(500).default(20),
  })
  .strict();

const DAY_NS = 86_400_000_000_000n;

/**
 * GET /api/v1/ingest/report: what a project's spans over a time range carried that no mapping used, and
 * the spans this process refused (by reason, since it started: refused spans are never stored).
 */
export function ingestRoutes(reader: ClickHouseClient, metrics: Metrics): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/api\/v1\/ingest\/report$/,
      auth: 'read',
      handler: async (_req, url) => {
        const q = parseWith(reportQuerySchema, queryObject(url.searchParams));
        const now = BigInt(Date.now()) * 1_000_000n;
        const toNs = q.to ?? now + DAY_NS;
        const fromNs = q.from ?? now - DAY_NS;
        if (fromNs >= toNs) throw new ApiError('INVALID_PARAMETER', '`from` must be before `to`', { parameter: 'from' });
        const conventions = await ingestReport(reader, { project: q.project, fromNs, toNs, topKeys: q.top_keys });
        const refused = (await metrics.spansRefused.get()).values
          .filter((v) => v.value > 0)
          .map((v) => ({ reason: String(v.labels.reason ?? ''), transport: String(v.labels.transport ?? ''), spans: v.value }));
        return {
          project: q.project,
          from: new Date(Number(fromNs / 1_000_000n)).toISOString(),
          to: new Date(Number(toNs / 1_000_000n)).toISOString(),
          conventions,
          refused_since_start: refused,
        };
      },
    },
  ];
}
