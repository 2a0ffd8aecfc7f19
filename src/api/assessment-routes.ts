import type { IncomingMessage } from 'node:http';
import type { AssessmentStore } from '../assessments/store.js';
import type { AssessmentRecord } from '../assessments/model.js';
import { createAssessmentSchema, defaultSource, overrideAssessmentSchema, patchAssessmentSchema } from '../assessments/input.js';
import type { AssessmentView } from '../query/views.js';
import { nsToIso } from '../query/views.js';
import { readJsonBody } from './body.js';
import { ApiError } from './errors.js';
import { parseWith, projectSchema, queryObject, traceIdSchema } from './params.js';
import type { Route } from './server.js';
import { z } from 'zod';

const assessmentIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'is not an assessment id');
const listQuery = z.object({ project: projectSchema }).strict();
const getQuery = z.object({ project: projectSchema, history: z.enum(['true', 'false']).default('false') }).strict();

export function recordView(a: AssessmentRecord): AssessmentView {
  return {
    assessment_id: a.assessmentId,
    trace_id: a.traceId,
    span_id: a.spanId || null,
    name: a.name,
    kind: a.kind,
    value: a.value,
    rationale: a.rationale,
    source: { source_type: a.sourceType, source_id: a.sourceId },
    error: a.error || null,
    metadata: a.metadata,
    create_time: nsToIso(a.createdTimeNs),
    last_update_time: nsToIso(a.lastUpdatedTimeNs),
    valid: a.valid,
    overrides: a.overrides || null,
  };
}

/**
 * Feedback and expectations on traces: create, read, edit, override, delete. A trace id that has no
 * spans yet is accepted: feedback often arrives before the exporter flushes the trace.
 */
export function assessmentRoutes(store: AssessmentStore): Route[] {
  const ids = (m: RegExpExecArray): { traceId: string; assessmentId?: string } => ({
    traceId: parseWith(traceIdSchema, decodeURIComponent(m[1] as string).toLowerCase()),
    ...(m[2] ? { assessmentId: parseWith(assessmentIdSchema, decodeURIComponent(m[2])) } : {}),
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
      method: 'POST',
      pattern: /^\/api\/v1\/traces\/([^/]+)\/assessments$/,
      status: 201,
      handler: async (req, url, m) => {
        const { traceId } = ids(m);
        const { project } = parseWith(listQuery, queryObject(url.searchParams));
        const input = parseWith(createAssessmentSchema, await body(req));
        const src = { ...defaultSource(input.kind), ...input.source };
        const created = await store.create({
          project,
          traceId,
          spanId: input.span_id ?? '',
          name: input.name,
          kind: input.kind,
          value: input.value,
          rationale: input.rationale,
          sourceType: src.source_type,
          sourceId: src.source_id ?? 'default',
          error: '',
          metadata: input.metadata,
        });
        return { assessment: recordView(created) };
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/traces\/([^/]+)\/assessments$/,
      handler: async (_req, url, m) => {
        const { traceId } = ids(m);
        const { project } = parseWith(listQuery, queryObject(url.searchParams));
        return { assessments: (await store.list(project, traceId)).map(recordView) };
      },
    },
    {
      method: 'GET',
      pattern: one,
      handler: async (_req, url, m) => {
        const { traceId, assessmentId } = ids(m);
        const q = parseWith(getQuery, queryObject(url.searchParams));
        const history = await store.history(q.project, traceId, assessmentId as string);
        const current = history[history.length - 1];
        if (!current || current.deleted) throw new ApiError('NOT_FOUND', `assessment ${assessmentId} not found on trace ${traceId}`);
        return q.history === 'true' ? { assessment: recordView(current), history: history.map(recordView) } : { assessment: recordView(current) };
      },
    },
    {
      method: 'PATCH',
      pattern: one,
      handler: async (req, url, m) => {
        const current = await existing(url, m);
        const patch = parseWith(patchAssessmentSchema, await body(req));
        return { assessment: recordView(await store.update(current, patch)) };
      },
    },
    {
      method: 'DELETE',
      pattern: one,
      handler: async (_req, url, m) => {
        await store.remove(await existing(url, m));
        return {};
      },
    },
    {
      method: 'POST',
      pattern: /^\/api\/v1\/traces\/([^/]+)\/assessments\/([^/]+)\/override$/,
      status: 201,
      handler: async (req, url, m) => {
        const current = await existing(url, m);
        if (current.kind !== 'feedback') throw new ApiError('INVALID_PARAMETER', 'only feedback can be overridden; edit an expectation with PATCH', { parameter: 'kind' });
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
        return { assessment: recordView(created) };
      },
    },
  ];
}
