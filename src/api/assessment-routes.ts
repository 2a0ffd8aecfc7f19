import type { IncomingMessage } from 'node:http';
import type { AssessmentStore, NewAssessment } from '../assessments/store.js';
import type { AssessmentRecord } from '../assessments/model.js';
import { createAssessmentSchema, defaultSource, overrideAssessmentSchema, patchAssessmentSchema, type CreateAssessmentInput } from '../assessments/input.js';
import { assessmentView, statsBucketView } from './views.js';
import { readJsonBody } from './body.js';
import { ApiError } from './errors.js';
import { parseWith, pathSegment, projectSchema, queryObject, timeParam, traceIdSchema } from './params.js';
import { parseBucket, type StatsBucket, type StatsParams } from '../assessments/stats.js';
import type { Route } from './server.js';
import { z } from 'zod';

const statsQuery = z
  .object({
    project: projectSchema,
    name: z.array(z.string().min(1).max(256)).max(50).default([]),
    from: timeParam.optional(),
    to: timeParam.optional(),
    bucket: z
      .string()
      .default('1h')
      .transform((v, ctx) => {
        const s = parseBucket(v);
        if (s === null) {
          ctx.addIssue({ code: 'custom', message: 'must be like 15m, 1h, 1d or a number of seconds' });
          return z.NEVER;
        }
        return s;
      }),
  })
  .strict();

const assessmentIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'is not an assessment id');
const listQuery = z.object({ project: projectSchema }).strict();
const getQuery = z.object({ project: projectSchema, history: z.enum(['true', 'false']).default('false') }).strict();

function newAssessment(project: string, traceId: string, input: CreateAssessmentInput): NewAssessment {
  const src = { ...defaultSource(input.kind), ...input.source };
  return {
    project,
    traceId,
    spanId: input.span_id ?? '',
    name: input.name,
    kind: input.kind,
    value: input.value,
    rationale: input.rationale,
    sourceType: src.source_type,
    sourceId: src.source_id ?? 'default',
    error: input.error ?? '',
    metadata: input.metadata,
  };
}

/**
 * Feedback and expectations on traces: create, read, edit, override, delete. A trace id that has no
 * spans yet is accepted: feedback often arrives before the exporter flushes the trace.
 */
export function assessmentRoutes(store: AssessmentStore, stats: (p: StatsParams) => Promise<StatsBucket[]>): Route[] {
  const ids = (m: RegExpExecArray): { traceId: string; assessmentId?: string } => ({
    traceId: parseWith(traceIdSchema, pathSegment(m[1] as string, 'trace_id').toLowerCase()),
    ...(m[2] ? { assessmentId: parseWith(assessmentIdSchema, pathSegment(m[2], 'assessment_id')) } : {}),
  });
  const existing = async (url: URL, m: RegExpExecArray): Promise<AssessmentRecord> => {
    const { traceId, assessmentId } = ids(m);
    const { project } = parseWith(listQuery, queryObject(url.searchParams));
    const current = await store.get(project, traceId, assessmentId as string);
    if (!current) throw new ApiError('NOT_FOUND', `assessment ${assessmentId} not found on trace ${traceId} in project "${project}"`);
    return current;
  };
  const body = async (req: IncomingMessage): Promise<unknown> => readJsonBody(req);
  const one = /^\/api\/v1\/traces\/([^/]+)\/assessments\/([^/]+)$/;

  return [
    {
      method: 'GET',
      auth: 'read',
      pattern: /^\/api\/v1\/assessments$/,
      handler: async (_req, url) => {
        const q = parseWith(statsQuery, queryObject(url.searchParams, ['name']));
        const toNs = q.to ?? BigInt(Date.now()) * 1_000_000n;
        const fromNs = q.from ?? toNs - 86_400_000_000_000n;
        if (fromNs >= toNs) throw new ApiError('INVALID_PARAMETER', '`from` must be before `to`', { parameter: 'from' });
        if ((toNs - fromNs) / 1_000_000_000n / BigInt(q.bucket) > 10_000n) {
          throw new ApiError('INVALID_PARAMETER', 'more than 10,000 buckets: widen `bucket` or narrow the range', { parameter: 'bucket' });
        }
        return { buckets: (await stats({ project: q.project, names: q.name, fromNs, toNs, bucketSeconds: q.bucket })).map(statsBucketView) };
      },
    },
    {
      method: 'POST',
      auth: 'write',
      pattern: /^\/api\/v1\/traces\/([^/]+)\/assessments$/,
      status: 201,
      handler: async (req, url, m) => {
        const { traceId } = ids(m);
        const { project } = parseWith(listQuery, queryObject(url.searchParams));
        const input = parseWith(createAssessmentSchema, await body(req));
        return { assessment: assessmentView(await store.create(newAssessment(project, traceId, input))) };
      },
    },
    {
      // Create or replace under a caller-chosen id: scorers derive ids from (trace, scorer, version) so
      // re-scoring a trace rewrites its verdict instead of adding another.
      method: 'PUT',
      auth: 'write',
      pattern: one,
      handler: async (req, url, m) => {
        const { traceId, assessmentId } = ids(m);
        const { project } = parseWith(listQuery, queryObject(url.searchParams));
        const input = parseWith(createAssessmentSchema, await body(req));
        const previous = (await store.history(project, traceId, assessmentId as string)).at(-1);
        const next = newAssessment(project, traceId, input);
        const saved = previous ? await store.update({ ...previous, ...next, deleted: false, valid: true }, {}) : await store.create(next, assessmentId);
        return { assessment: assessmentView(saved) };
      },
    },
    {
      method: 'GET',
      auth: 'read',
      pattern: /^\/api\/v1\/traces\/([^/]+)\/assessments$/,
      handler: async (_req, url, m) => {
        const { traceId } = ids(m);
        const { project } = parseWith(listQuery, queryObject(url.searchParams));
        return { assessments: (await store.list(project, traceId)).map(assessmentView) };
      },
    },
    {
      method: 'GET',
      auth: 'read',
      pattern: one,
      handler: async (_req, url, m) => {
        const { traceId, assessmentId } = ids(m);
        const q = parseWith(getQuery, queryObject(url.searchParams));
        const history = await store.history(q.project, traceId, assessmentId as string);
        const current = history[history.length - 1];
        if (!current || current.deleted) throw new ApiError('NOT_FOUND', `assessment ${assessmentId} not found on trace ${traceId}`);
        return q.history === 'true' ? { assessment: assessmentView(current), history: history.map(assessmentView) } : { assessment: assessmentView(current) };
      },
    },
    {
      method: 'PATCH',
      auth: 'write',
      pattern: one,
      handler: async (req, url, m) => {
        const current = await existing(url, m);
        const patch = parseWith(patchAssessmentSchema, await body(req));
        return { assessment: assessmentView(await store.update(current, patch)) };
      },
    },
    {
      method: 'DELETE',
      auth: 'write',
      pattern: one,
      handler: async (_req, url, m) => {
        await store.remove(await existing(url, m));
        return {};
      },
    },
    {
      method: 'POST',
      auth: 'write',
      pattern: /^\/api\/v1\/traces\/([^/]+)\/assessments\/([^/]+)\/override$/,
      status: 201,
      handler: async (req, url, m) => {
        const current = await existing(url, m);
        if (current.kind !== 'feedback')
          throw new ApiError('INVALID_PARAMETER', 'only feedback can be overridden; edit an expectation with PATCH', { parameter: 'kind' });
        const input = parseWith(overrideAssessmentSchema, await body(req));
        const src = { source_type: 'HUMAN' as const, source_id: 'default', ...input.source };
        const created = await store.override(current, {
          value: input.value,
          rationale: input.rationale,
          sourceType: src.source_type,
          sourceId: src.source_id ?? 'default',
          error: '',
          metadata: input.metadata,
        });
        return { assessment: assessmentView(created) };
      },
    },
  ];
}
