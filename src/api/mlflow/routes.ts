/**
 * MLflow's tracking REST API (the part its 3.x Python client speaks for GenAI traces) over tracehouse's
 * store: an experiment is a project, a trace is a trace (its `tr-` id and its hex id name the same one),
 * assessments are the same rows the evaluator and /api/v1 use. Every answer is MLflow's: JSON with
 * snake_case fields, errors as `{"error_code", "message"}`.
 */
import type { IncomingMessage } from 'node:http';
import type { ClickHouseClient } from '@clickhouse/client';
import type { z } from 'zod';
import type { Publisher } from '../../component/consumer.js';
import type { AssessmentStore } from '../../assessments/store.js';
import type { AssessmentRecord } from '../../assessments/model.js';
import { createAssessmentSchema } from '../../assessments/input.js';
import { readAssessments } from '../../assessments/read.js';
import type { TraceReader } from '../../query/trace-reader.js';
import { tracesOfRun } from '../../query/trace-meta.js';
import { PROJECT_RE, PROJECT_RULE } from '../../model/project.js';
import { ApiError } from '../errors.js';
import { parseWith } from '../params.js';
import { RawReply } from '../reply.js';
import type { Route } from '../server.js';
import { readJson } from './body.js';
import { assessmentJson, SESSION_KEY, SPANS_LOCATION_TAG, spanJson, traceInfoJson, USER_KEY } from './convert.js';
import { errorReply, MlflowError, toMlflowError } from './errors.js';
import { experimentIdFor, hexTraceId, mlflowTraceId, nameForProject, projectForName } from './ids.js';
import { ingestOtlp } from './otlp.js';
import * as S from './schemas.js';
import { deleteTraces, type ExperimentRecord, type ExperimentStore, type RunDoc, type RunStore, type TraceMetaChange, type TraceMetaWriter } from './store.js';

/** The MLflow server version `/version` reports: 3.4+ makes the client export spans over OTLP. */
export const MLFLOW_SERVER_VERSION = '3.17.0';

/** Trace ids resolved to their project, remembered (ids are unique across projects). */
const PROJECT_CACHE_SIZE = 10_000;

export interface MlflowDeps {
  reader: ClickHouseClient;
  writer: ClickHouseClient;
  traces: TraceReader;
  assessments: AssessmentStore;
  experiments: ExperimentStore;
  runs: RunStore;
  meta: TraceMetaWriter;
  /** Where OTLP spans go: the process's bus. Absent: `/v1/traces` answers that this process takes none. */
  publisher?: Publisher;
}

type Query = URLSearchParams;
type Handler = (req: IncomingMessage, q: Query, m: RegExpExecArray) => Promise<unknown>;

/** Every MLflow REST path is served under both prefixes and versions the client and UI use. */
const P = '^/(?:ajax-)?api/[23]\\.0/mlflow';
const re = (path: string): RegExp => new RegExp(`${P}${path}$`);

function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  try {
    return parseWith(schema, input);
  } catch (err) {
    if (err instanceof ApiError) throw new MlflowError('INVALID_PARAMETER_VALUE', err.message);
    throw err;
  }
}

const required = (q: Query, name: string): string => {
  const v = q.get(name);
  if (v === null || v === '') throw new MlflowError('INVALID_PARAMETER_VALUE', `missing value for required parameter '${name}'`);
  return v;
};

const tagList = (tags: Record<string, string>): Array<{ key: string; value: string }> => Object.entries(tags).map(([key, value]) => ({ key, value }));

function experimentJson(e: ExperimentRecord): Record<string, unknown> {
  return {
    experiment_id: e.experimentId,
    name: nameForProject(e.project),
    artifact_location: e.artifactLocation || `mlflow-artifacts:/${e.experimentId}`,
    lifecycle_stage: 'active',
    creation_time: e.creationTimeMs,
    last_update_time: e.creationTimeMs,
    tags: tagList(e.tags),
  };
}

/** Search pages across several experiments: which location, and the offset within it. */
function decodeSearchToken(token: string | undefined): { l: number; o: number } {
  if (!token) return { l: 0, o: 0 };
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { l?: unknown; o?: unknown };
    if (Number.isSafeInteger(v.l) && Number.isSafeInteger(v.o) && (v.l as number) >= 0 && (v.o as number) >= 0) return { l: v.l as number, o: v.o as number };
  } catch {
    // fall through
  }
  throw new MlflowError('INVALID_PARAMETER_VALUE', 'page_token is not valid: pass the next_page_token of the previous page');
}
const encodeSearchToken = (l: number, o: number): string => Buffer.from(JSON.stringify({ l, o })).toString('base64url');

/** MLflow's run filter, which tracehouse's grammar does not know: taken out and answered from links. */
const RUN_ID_CLAUSE = /(?:\b(?:attributes?|trace)\.)?\brun_id\s*=\s*(['"])([^'"]*)\1/i;
export function splitRunFilter(filter: string): { filter: string; runId: string | null } {
  const m = RUN_ID_CLAUSE.exec(filter);
  if (!m) return { filter, runId: null };
  const rest = `${filter.slice(0, m.index)} ${filter.slice(m.index + m[0].length)}`
    .replace(/^\s*and\s+/i, '')
    .replace(/\s+and\s*$/i, '')
    .replace(/\s+and\s+and\s+/i, ' AND ')
    .trim();
  return { filter: rest, runId: m[2] as string };
}

/** MLflow's order_by keys in tracehouse's grammar (both say timestamp_ms; MLflow also says attribute.x). */
const orderTerm = (t: string): string => t.replace(/^\s*(?:attributes?|trace)\./i, '').replace(/^request_id\b/i, 'timestamp_ms');

function metaChangesOf(info: z.output<typeof S.traceInfoBody>): TraceMetaChange[] {
  const changes: TraceMetaChange[] = [];
  for (const [key, value] of Object.entries(info.trace_metadata)) changes.push({ field: 'metadata', key, value });
  for (const [key, value] of Object.entries(info.tags)) changes.push({ field: 'tag', key, value });
  const session = info.trace_metadata[SESSION_KEY];
  const user = info.trace_metadata[USER_KEY];
  if (session) changes.push({ field: 'session_id', key: '', value: session });
  if (user) changes.push({ field: 'user_id', key: '', value: user });
  return changes;
}

export function mlflowRoutes(d: MlflowDeps): Route[] {
  const projects = new Map<string, string>();

  /** The project of a trace id, from the traces table or the keys set on it; a 404 when unknown. */
  const projectOfTrace = async (hex: string): Promise<string> => {
    const known = projects.get(hex);
    if (known) return known;
    const rs = await d.reader.query({
      query: `SELECT project FROM (
                SELECT project FROM traces WHERE trace_id = {id:String} LIMIT 1
                UNION ALL SELECT project FROM trace_meta WHERE trace_id = {id:String} LIMIT 1) LIMIT 1`,
      query_params: { id: hex },
      format: 'JSONEachRow',
    });
    const [row] = await rs.json<{ project: string }>();
    if (!row) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Trace with ID '${mlflowTraceId(hex)}' not found.`);
    remember(hex, row.project);
    return row.project;
  };
  const remember = (hex: string, project: string): void => {
    if (projects.size >= PROJECT_CACHE_SIZE) projects.delete(projects.keys().next().value as string);
    projects.set(hex, project);
  };

  const experimentById = async (id: string): Promise<ExperimentRecord> => {
    const e = await d.experiments.byId(id);
    if (!e) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${id} exists`);
    return e;
  };

  const infoOf = async (hex: string): Promise<Record<string, unknown> | null> => {
    const project = await projectOfTrace(hex);
    const record = await d.traces.getTraceRecord(project, hex);
    if (!record) return null;
    return traceInfoJson(record.info, experimentIdFor(project), record.assessments);
  };

  /** A whole trace (info and spans); null when the store has none of it, or (unless partial is allowed) not all of it yet. */
  const fullTrace = async (hex: string, allowPartial = true): Promise<Record<string, unknown> | null> => {
    let project: string;
    try {
      project = await projectOfTrace(hex);
    } catch (err) {
      if (err instanceof MlflowError && err.code === 'RESOURCE_DOES_NOT_EXIST') return null;
      throw err;
    }
    const record = await d.traces.getTraceRecord(project, hex);
    if (!record) return null;
    if (!allowPartial) {
      const stats = record.info.metadata['mlflow.trace.sizeStats'];
      const expected = stats ? Number((JSON.parse(stats) as { num_spans?: unknown }).num_spans) : Number.NaN;
      if (Number.isFinite(expected) && record.spans.length < expected) return null;
    }
    return { trace_info: traceInfoJson(record.info, experimentIdFor(project), record.assessments), spans: record.spans.map(spanJson) };
  };

  const assessmentOf = async (hex: string, assessmentId: string): Promise<AssessmentRecord> => {
    const project = await projectOfTrace(hex);
    const a = await d.assessments.get(project, hex, assessmentId);
    if (!a) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Assessment with ID '${assessmentId}' not found on trace '${mlflowTraceId(hex)}'`);
    return a;
  };

  const runOf = async (runId: string | undefined): Promise<RunDoc> => {
    if (!runId) throw new MlflowError('INVALID_PARAMETER_VALUE', "missing value for required parameter 'run_id'");
    const run = await d.runs.get(runId);
    if (!run) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Run with id=${runId} not found`);
    return run;
  };
  const changeRun = async (runId: string | undefined, change: (doc: RunDoc) => void): Promise<RunDoc> => {
    await runOf(runId);
    const doc = await d.runs.update(runId as string, change);
    if (!doc) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Run with id=${runId} not found`);
    return doc;
  };
  const upsert = <T extends { key: string }>(list: T[], item: T): void => {
    const i = list.findIndex((x) => x.key === item.key);
    if (i >= 0) list[i] = item;
    else list.push(item);
  };

  /** An MLflow assessment message as tracehouse's assessment input (validated by the same schema /api/v1 uses). */
  const assessmentInput = (a: z.output<typeof S.assessmentBody>) => {
    const kind = a.expectation ? 'expectation' : 'feedback';
    let value: unknown = null;
    if (a.expectation) {
      const sv = a.expectation.serialized_value;
      if (sv) {
        try {
          value = JSON.parse(sv.value);
        } catch {
          throw new MlflowError('INVALID_PARAMETER_VALUE', 'expectation.serialized_value.value is not JSON');
        }
      } else value = a.expectation.value ?? null;
    } else value = a.feedback?.value ?? null;
    const err = a.feedback?.error;
    const sourceType = ['HUMAN', 'CODE', 'LLM_JUDGE'].includes(a.source?.source_type ?? '') ? a.source?.source_type : 'CODE';
    const spanId = a.span_id?.toLowerCase();
    return parse(createAssessmentSchema, {
      name: a.assessment_name,
      kind,
      value,
      ...(err ? { error: `${err.error_code || 'ERROR'}: ${err.error_message ?? ''}`.slice(0, 8192) } : {}),
      rationale: a.rationale ?? '',
      source: { source_type: sourceType, ...(a.source?.source_id ? { source_id: a.source.source_id } : {}) },
      metadata: Object.fromEntries(Object.entries(a.metadata ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])),
      ...(spanId && /^[0-9a-f]{16}$/.test(spanId) ? { span_id: spanId } : {}),
    });
  };

  const createAssessment = async (hex: string, a: z.output<typeof S.assessmentBody>): Promise<AssessmentRecord> => {
    if (!a.assessment_name) throw new MlflowError('INVALID_PARAMETER_VALUE', 'assessment.assessment_name is required');
    const project = await projectOfTrace(hex);
    const input = assessmentInput(a);
    const record = {
      project,
      traceId: hex,
      spanId: input.span_id ?? '',
      name: input.name,
      kind: input.kind,
      value: input.value,
      rationale: input.rationale,
      sourceType: input.source?.source_type ?? 'CODE',
      sourceId: input.source?.source_id ?? 'default',
      error: input.error ?? '',
      metadata: input.metadata,
      valid: a.valid ?? true,
    };
    if (a.overrides) {
      // MLflow's override_feedback: the new assessment names the old one, which stops being valid.
      const old = await assessmentOf(hex, a.overrides);
      return d.assessments.override(old, record);
    }
    return d.assessments.create(record);
  };

  const searchTraces = async (body: z.output<typeof S.searchTracesBody>): Promise<unknown> => {
    const ids = [...body.locations.map((l) => l.mlflow_experiment?.experiment_id).filter((x): x is string => !!x), ...body.experiment_ids];
    if (ids.length === 0) throw new MlflowError('INVALID_PARAMETER_VALUE', 'locations must name at least one MLflow experiment');
    const experiments = await Promise.all(ids.map(experimentById));
    const { filter, runId } = splitRunFilter(body.filter);
    const maxResults = Math.min(body.max_results, 500);
    const orderBy = body.order_by.length ? body.order_by.map(orderTerm) : ['timestamp_ms DESC'];
    let { l, o } = decodeSearchToken(body.page_token);
    const out: Record<string, unknown>[] = [];
    let next: string | null = null;
    while (l < experiments.length && out.length < maxResults) {
      const project = (experiments[l] as ExperimentRecord).project;
      const only = runId === null ? undefined : await tracesOfRun(d.reader, project, runId);
      const want = maxResults - out.length;
      const result =
        only && only.length === 0
          ? { traces: [], nextOffset: null }
          : await d.traces.search({
              project,
              fromNs: 0n,
              toNs: BigInt(Date.now() + 86_400_000) * 1_000_000n,
              filter,
              orderBy,
              maxResults: want,
              offset: o,
              ...(only ? { traceIds: only } : {}),
            });
      const assessments = await readAssessments(
        d.reader,
        project,
        result.traces.map((t) => t.traceId),
      );
      for (const t of result.traces) {
        remember(t.traceId, project);
        out.push(
          traceInfoJson(
            t,
            experimentIdFor(project),
            assessments.filter((a) => a.traceId === t.traceId),
          ),
        );
      }
      if (result.nextOffset !== null) {
        o = result.nextOffset;
        if (out.length >= maxResults) next = encodeSearchToken(l, o);
      } else {
        l += 1;
        o = 0;
        if (out.length >= maxResults && l < experiments.length) next = encodeSearchToken(l, 0);
      }
    }
    return { traces: out, ...(next ? { next_page_token: next } : {}) };
  };

  const batchGet = async (ids: readonly string[]): Promise<Record<string, unknown>[]> => {
    const hexes = ids.map((id) => hexTraceId(id, 'trace_ids'));
    const traces = await Promise.all(hexes.map((h) => fullTrace(h, false)));
    return traces.filter((t): t is Record<string, unknown> => t !== null);
  };

  const routes: Array<[string, RegExp, Handler]> = [
    // Experiments ↔ projects.
    [
      'GET',
      re('/experiments/get-by-name'),
      async (_req, q) => {
        const name = required(q, 'experiment_name');
        const project = projectForName(name);
        if (!PROJECT_RE.test(project) || !(await d.experiments.exists(project))) {
          throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Could not find experiment with name '${name}'`);
        }
        return { experiment: experimentJson(await d.experiments.byProject(project)) };
      },
    ],
    ['GET', re('/experiments/get'), async (_req, q) => ({ experiment: experimentJson(await experimentById(required(q, 'experiment_id'))) })],
    [
      'POST',
      re('/experiments/create'),
      async (req) => {
        const body = parse(S.createExperimentBody, await readJson(req));
        const project = projectForName(body.name);
        if (!PROJECT_RE.test(project)) {
          throw new MlflowError('INVALID_PARAMETER_VALUE', `experiment name '${body.name}' is not a valid tracehouse project name: use ${PROJECT_RULE}`);
        }
        if (await d.experiments.exists(project)) throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Experiment '${body.name}' already exists.`);
        const tags = Object.fromEntries(body.tags.map((t) => [t.key, t.value]));
        const e = await d.experiments.create(project, body.artifact_location ?? '', tags);
        return { experiment_id: e.experimentId };
      },
    ],
    [
      'POST',
      re('/experiments/set-experiment-tag'),
      async (req) => {
        const body = parse(S.setExperimentTagBody, await readJson(req));
        await d.experiments.setTag(await experimentById(body.experiment_id), body.key, body.value);
        return {};
      },
    ],
    ...(['GET', 'POST'] as const).map((method): [string, RegExp, Handler] => [
      method,
      re('/experiments/search'),
      async (req, q) => {
        const body = parse(S.searchExperimentsBody, method === 'POST' ? await readJson(req) : Object.fromEntries(q));
        let all = await d.experiments.all();
        // The one filter clients send in practice: name = '…' (or LIKE).
        const m = body.filter ? /^\s*(?:attribute\.)?name\s*(=|LIKE|ILIKE)\s*'([^']*)'\s*$/i.exec(body.filter) : null;
        if (m) {
          const [op, v] = [(m[1] as string).toUpperCase(), m[2] as string];
          const rx = new RegExp(
            `^${v
              .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
              .replace(/%/g, '.*')
              .replace(/_/g, '.')}$`,
            op === 'ILIKE' ? 'i' : '',
          );
          all = all.filter((e) => (op === '=' ? nameForProject(e.project) === v : rx.test(nameForProject(e.project))));
        }
        all.sort((a, b) => b.creationTimeMs - a.creationTimeMs || a.project.localeCompare(b.project));
        const offset = body.page_token ? decodeSearchToken(body.page_token).o : 0;
        const max = Math.min(body.max_results ?? 1000, 50_000);
        const page = all.slice(offset, offset + max);
        return { experiments: page.map(experimentJson), ...(offset + max < all.length ? { next_page_token: encodeSearchToken(0, offset + max) } : {}) };
      },
    ]),
    ['GET', re('/server-info'), async () => ({ store_type: 'SqlStore', workspaces_enabled: false })],

    // Traces: the literal paths before /traces/{id}.
    ['POST', re('/traces/search'), async (req) => searchTraces(parse(S.searchTracesBody, await readJson(req)))],
    ['GET', re('/traces/batchGet'), async (_req, q) => ({ traces: await batchGet(q.getAll('trace_ids')) })],
    [
      'POST',
      re('/traces/batchGetInfos'),
      async (req) => {
        const body = parse(S.batchIdsBody, await readJson(req));
        const infos = await Promise.all(
          body.trace_ids.map(async (id) => {
            try {
              return await infoOf(hexTraceId(id, 'trace_ids'));
            } catch (err) {
              if (err instanceof MlflowError && err.code === 'RESOURCE_DOES_NOT_EXIST') return null;
              throw err;
            }
          }),
        );
        return { trace_infos: infos.filter((x) => x !== null) };
      },
    ],
    [
      'GET',
      re('/traces/get'),
      async (_req, q) => {
        const hex = hexTraceId(required(q, 'trace_id'));
        const allowPartial = (q.get('allow_partial') ?? 'false').toLowerCase() === 'true';
        const trace = await fullTrace(hex, allowPartial);
        if (!trace) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Trace with ID '${mlflowTraceId(hex)}' not found.`);
        return { trace };
      },
    ],
    [
      'POST',
      re('/traces/link-to-run'),
      async (req) => {
        const body = parse(S.linkToRunBody, await readJson(req));
        await runOf(body.run_id);
        for (const id of body.trace_ids) {
          const hex = hexTraceId(id, 'trace_ids');
          await d.meta.write(await projectOfTrace(hex), hex, [{ field: 'run', key: body.run_id, value: '1' }]);
        }
        return {};
      },
    ],
    [
      'POST',
      re('/traces/delete-traces'),
      async (req) => {
        const body = parse(S.deleteTracesBody, await readJson(req));
        const { project } = await experimentById(body.experiment_id);
        let ids = body.request_ids.map((id) => hexTraceId(id, 'request_ids'));
        if (ids.length === 0) {
          if (body.max_timestamp_millis === undefined) throw new MlflowError('INVALID_PARAMETER_VALUE', 'give request_ids or max_timestamp_millis');
          const rs = await d.reader.query({
            query: `SELECT DISTINCT trace_id FROM traces WHERE project = {project:String} AND request_time_ns <= {max:UInt64}
                    ORDER BY trace_id LIMIT {n:UInt32}`,
            query_params: { project, max: (BigInt(body.max_timestamp_millis) * 1_000_000n).toString(), n: body.max_traces ?? 1_000_000 },
            format: 'JSONEachRow',
          });
          ids = (await rs.json<{ trace_id: string }>()).map((r) => r.trace_id);
        }
        const deleted = await deleteTraces(d.writer, project, ids);
        for (const id of ids) projects.delete(id);
        return { traces_deleted: deleted };
      },
    ],
    [
      'POST',
      re('/traces'),
      async (req) => {
        const { trace } = parse(S.startTraceBody, await readJson(req));
        const info = trace.trace_info;
        const hex = hexTraceId(info.trace_id);
        const experimentId = info.trace_location?.mlflow_experiment?.experiment_id ?? '0';
        const { project } = await experimentById(experimentId);
        await d.meta.write(project, hex, metaChangesOf(info));
        remember(hex, project);
        // Assessments logged while the trace was still open travel inside it, without ids.
        const created: AssessmentRecord[] = [];
        for (const raw of info.assessments) created.push(await createAssessment(hex, parse(S.assessmentBody, raw)));
        return {
          trace: {
            trace_info: {
              ...info,
              trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
              tags: { ...info.tags, [SPANS_LOCATION_TAG]: 'TRACKING_STORE' },
              assessments: created.map(assessmentJson),
            },
          },
        };
      },
    ],
    [
      'GET',
      re('/traces/([^/]+)'),
      async (_req, _q, m) => {
        const hex = hexTraceId(decodeURIComponent(m[1] as string));
        const info = await infoOf(hex);
        if (!info) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Trace with ID '${mlflowTraceId(hex)}' not found.`);
        return { trace: { trace_info: info } };
      },
    ],
    [
      'PATCH',
      re('/traces/([^/]+)/tags'),
      async (req, _q, m) => {
        const hex = hexTraceId(decodeURIComponent(m[1] as string));
        const body = parse(S.traceTagBody, await readJson(req));
        await d.meta.write(await projectOfTrace(hex), hex, [{ field: 'tag', key: body.key, value: body.value }]);
        return {};
      },
    ],
    [
      'DELETE',
      re('/traces/([^/]+)/tags'),
      async (req, q, m) => {
        const hex = hexTraceId(decodeURIComponent(m[1] as string));
        const json = await readJson(req);
        const body = parse(S.traceTagKeyBody, { key: q.get('key') ?? undefined, ...json });
        const project = await projectOfTrace(hex);
        const record = await d.traces.getTraceRecord(project, hex);
        if (record?.info.tags[body.key] === undefined) {
          throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No trace tag with key '${body.key}' for trace with ID '${mlflowTraceId(hex)}'`);
        }
        await d.meta.write(project, hex, [{ field: 'tag', key: body.key, value: '', deleted: true }]);
        return {};
      },
    ],

    // Assessments: the same rows /api/v1 and the evaluator read and write.
    [
      'POST',
      re('/traces/([^/]+)/assessments'),
      async (req, _q, m) => {
        const hex = hexTraceId(decodeURIComponent(m[1] as string));
        const { assessment } = parse(S.createAssessmentBody, await readJson(req));
        return { assessment: assessmentJson(await createAssessment(hex, assessment)) };
      },
    ],
    [
      'GET',
      re('/traces/([^/]+)/assessments/([^/]+)'),
      async (_req, _q, m) => {
        const hex = hexTraceId(decodeURIComponent(m[1] as string));
        return { assessment: assessmentJson(await assessmentOf(hex, decodeURIComponent(m[2] as string))) };
      },
    ],
    [
      'PATCH',
      re('/traces/([^/]+)/assessments/([^/]+)'),
      async (req, _q, m) => {
        const hex = hexTraceId(decodeURIComponent(m[1] as string));
        const current = await assessmentOf(hex, decodeURIComponent(m[2] as string));
        const { assessment, update_mask } = parse(S.updateAssessmentBody, await readJson(req));
        const mask = new Set(
          update_mask
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        );
        const all = mask.size === 0;
        const patch: Parameters<AssessmentStore['update']>[1] = {};
        const wants = (f: string): boolean => all || mask.has(f);
        if (wants('assessment_name') && assessment.assessment_name) patch.name = assessment.assessment_name;
        if ((wants('feedback') && assessment.feedback) || (wants('expectation') && assessment.expectation)) {
          const input = assessmentInput({ ...assessment, assessment_name: patch.name ?? current.name });
          patch.value = input.value;
        }
        if (wants('rationale') && assessment.rationale !== undefined) patch.rationale = assessment.rationale;
        if (wants('metadata') && assessment.metadata) {
          patch.metadata = Object.fromEntries(Object.entries(assessment.metadata).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
        }
        if (wants('valid') && assessment.valid !== undefined) patch.valid = assessment.valid;
        return { assessment: assessmentJson(await d.assessments.update(current, patch)) };
      },
    ],
    [
      'DELETE',
      re('/traces/([^/]+)/assessments/([^/]+)'),
      async (_req, _q, m) => {
        const hex = hexTraceId(decodeURIComponent(m[1] as string));
        await d.assessments.remove(await assessmentOf(hex, decodeURIComponent(m[2] as string)));
        return {};
      },
    ],

    // Runs: what genai.evaluate records its evaluation in.
    [
      'POST',
      re('/runs/create'),
      async (req) => {
        const body = parse(S.createRunBody, await readJson(req));
        await experimentById(body.experiment_id);
        const tags = body.tags.map((t) => ({ key: t.key, value: t.value }));
        const name = body.run_name ?? tags.find((t) => t.key === 'mlflow.runName')?.value ?? `run-${Date.now().toString(36)}`;
        const run = await d.runs.create(
          { experiment_id: body.experiment_id, run_name: name, user_id: body.user_id, start_time: body.start_time ?? Date.now() },
          tags.some((t) => t.key === 'mlflow.runName') ? tags : [...tags, { key: 'mlflow.runName', value: name }],
        );
        return { run };
      },
    ],
    ['GET', re('/runs/get'), async (_req, q) => ({ run: await runOf(q.get('run_id') ?? q.get('run_uuid') ?? undefined) })],
    [
      'POST',
      re('/runs/update'),
      async (req) => {
        const body = parse(S.updateRunBody, await readJson(req));
        const doc = await changeRun(body.run_id ?? body.run_uuid, (r) => {
          if (body.status) r.info.status = body.status;
          if (body.end_time !== undefined) r.info.end_time = body.end_time;
          if (body.run_name) {
            r.info.run_name = body.run_name;
            upsert(r.data.tags, { key: 'mlflow.runName', value: body.run_name });
          }
        });
        return { run_info: doc.info };
      },
    ],
    [
      'POST',
      re('/runs/set-tag'),
      async (req) => {
        const body = parse(S.runTagBody, await readJson(req));
        await changeRun(body.run_id ?? body.run_uuid, (r) => upsert(r.data.tags, { key: body.key, value: body.value }));
        return {};
      },
    ],
    [
      'POST',
      re('/runs/delete-tag'),
      async (req) => {
        const body = parse(S.runDeleteTagBody, await readJson(req));
        await changeRun(body.run_id, (r) => {
          r.data.tags = r.data.tags.filter((t) => t.key !== body.key);
        });
        return {};
      },
    ],
    [
      'POST',
      re('/runs/log-batch'),
      async (req) => {
        const body = parse(S.logBatchBody, await readJson(req));
        await changeRun(body.run_id, (r) => {
          for (const m of body.metrics) upsert(r.data.metrics, { key: m.key, value: m.value, timestamp: m.timestamp, step: m.step });
          for (const p of body.params) upsert(r.data.params, { key: p.key, value: p.value });
          for (const t of body.tags) upsert(r.data.tags, { key: t.key, value: t.value });
        });
        return {};
      },
    ],
    [
      'POST',
      re('/runs/log-metric'),
      async (req) => {
        const m = parse(S.logMetricBody, await readJson(req));
        await changeRun(m.run_id ?? m.run_uuid, (r) => upsert(r.data.metrics, { key: m.key, value: m.value, timestamp: m.timestamp, step: m.step }));
        return {};
      },
    ],
    [
      'POST',
      re('/runs/log-parameter'),
      async (req) => {
        const p = parse(S.logParamBody, await readJson(req));
        await changeRun(p.run_id ?? p.run_uuid, (r) => upsert(r.data.params, { key: p.key, value: p.value }));
        return {};
      },
    ],
    [
      'POST',
      re('/runs/log-inputs'),
      async (req) => {
        const body = parse(S.logInputsBody, await readJson(req));
        await changeRun(body.run_id, (r) => {
          r.inputs.dataset_inputs.push(...body.datasets);
          if (body.models.length) r.inputs.model_inputs = [...(r.inputs.model_inputs ?? []), ...body.models];
        });
        return {};
      },
    ],
    [
      'POST',
      re('/runs/outputs'),
      async (req) => {
        const body = parse(S.logOutputsBody, await readJson(req));
        await runOf(body.run_id);
        return {};
      },
    ],
    [
      'POST',
      re('/runs/search'),
      async (req) => {
        const body = parse(S.searchRunsBody, await readJson(req));
        const runs = await d.runs.search(body.experiment_ids);
        runs.sort((a, b) => b.info.start_time - a.info.start_time);
        return { runs: runs.slice(0, body.max_results ?? 1000) };
      },
    ],
  ];

  /**
   * MLflow names its project by experiment id or trace id, in paths, queries and bodies, and its handlers
   * do not scope reads to one project: once keys are on they take an admin key (MLFLOW_TRACKING_TOKEN),
   * never a project key, so no key of one project reads another's traces through them.
   */
  const MLFLOW_AUTH = 'admin' as const;

  const wrap =
    (h: Handler): Route['handler'] =>
    async (req, url, m) => {
      try {
        return RawReply.json(200, await h(req, url.searchParams, m));
      } catch (err) {
        return errorReply(toMlflowError(err));
      }
    };

  const notFound = async (req: IncomingMessage, _q: Query): Promise<never> => {
    throw new MlflowError('ENDPOINT_NOT_FOUND', `${req.method} ${req.url?.split('?')[0]} is not an endpoint of this MLflow-compatible server`);
  };

  return [
    {
      method: 'GET',
      pattern: /^\/version$/,
      auth: 'public',
      handler: async () => new RawReply(200, { 'Content-Type': 'text/plain; charset=utf-8' }, MLFLOW_SERVER_VERSION),
    },
    {
      method: 'POST',
      pattern: /^\/v1\/traces$/,
      auth: MLFLOW_AUTH,
      handler: async (req) => {
        try {
          await ingestOtlp(req, d.publisher, (id) => experimentById(id));
          return new RawReply(200, { 'Content-Type': 'application/x-protobuf' }, Buffer.alloc(0));
        } catch (err) {
          return errorReply(toMlflowError(err));
        }
      },
    },
    ...routes.map(([method, pattern, h]) => ({ method, pattern, auth: MLFLOW_AUTH, handler: wrap(h) })),
    // Anything else under MLflow's prefixes: ENDPOINT_NOT_FOUND, the code that makes the client use its fallbacks.
    ...['GET', 'POST', 'PATCH', 'DELETE', 'PUT'].map((method) => ({ method, pattern: new RegExp(`${P}/`), auth: MLFLOW_AUTH, handler: wrap(notFound) })),
  ];
}
