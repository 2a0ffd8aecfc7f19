/**
 * What MLflow's client keeps beside traces: experiments (tracehouse projects), trace-level keys
 * (`trace_meta`), runs. Writes go through insertRows like every other store write; reads take the highest
 * version of each row.
 */
import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { insertRows } from '../../exporters/clickhouse/insert.js';
import type { ExperimentRow, RunRow, TraceMetaField, TraceMetaRow } from '../../exporters/clickhouse/tables.js';
import { nowNs } from '../../assessments/model.js';
import { DEFAULT_PROJECT } from '../../model/project.js';
import { DEFAULT_EXPERIMENT_ID, experimentIdFor } from './ids.js';

export interface ExperimentRecord {
  experimentId: string;
  project: string;
  artifactLocation: string;
  tags: Record<string, string>;
  creationTimeMs: number;
  /** Whether the experiment was created through the API (else it is a project known only by its traces). */
  stored: boolean;
}

export class ExperimentStore {
  constructor(
    private readonly writer: ClickHouseClient,
    private readonly reader: ClickHouseClient,
  ) {}

  private async storedRows(where = '', params: Record<string, string> = {}): Promise<ExperimentRow[]> {
    const rs = await this.reader.query({
      query: `SELECT experiment_id, argMax(name, e.version) AS name, argMax(artifact_location, e.version) AS artifact_location,
                     argMax(tags, e.version) AS tags, min(creation_time_ms) AS creation_time_ms, toString(max(e.version)) AS version
              FROM experiments AS e ${where} GROUP BY experiment_id`,
      query_params: params,
      format: 'JSONEachRow',
    });
    return rs.json<ExperimentRow>();
  }

  private record(r: ExperimentRow): ExperimentRecord {
    return {
      experimentId: r.experiment_id,
      project: r.name,
      artifactLocation: r.artifact_location,
      tags: r.tags,
      creationTimeMs: Number(r.creation_time_ms),
      stored: true,
    };
  }

  private implicit(project: string): ExperimentRecord {
    return { experimentId: experimentIdFor(project), project, artifactLocation: '', tags: {}, creationTimeMs: 0, stored: false };
  }

  /** Projects that have traces but no experiment record. */
  private async tracedProjects(): Promise<string[]> {
    const rs = await this.reader.query({ query: 'SELECT DISTINCT project FROM traces', format: 'JSONEachRow' });
    return (await rs.json<{ project: string }>()).map((r) => r.project);
  }

  /** The experiment of a project: every project is one, whether created through MLflow or by its traces. */
  async byProject(project: string): Promise<ExperimentRecord> {
    const [row] = await this.storedRows('WHERE experiment_id = {id:String}', { id: experimentIdFor(project) });
    return row ? this.record(row) : this.implicit(project);
  }

  async exists(project: string): Promise<boolean> {
    if (project === DEFAULT_PROJECT) return true;
    if ((await this.byProject(project)).stored) return true;
    const rs = await this.reader.query({
      query: 'SELECT 1 FROM traces WHERE project = {p:String} LIMIT 1',
      query_params: { p: project },
      format: 'JSONEachRow',
    });
    return (await rs.json()).length > 0;
  }

  /** The experiment with this id, or null. */
  async byId(id: string): Promise<ExperimentRecord | null> {
    if (id === DEFAULT_EXPERIMENT_ID) return this.byProject(DEFAULT_PROJECT);
    const [row] = await this.storedRows('WHERE experiment_id = {id:String}', { id });
    if (row) return this.record(row);
    const project = (await this.tracedProjects()).find((p) => experimentIdFor(p) === id);
    return project === undefined ? null : this.implicit(project);
  }

  async all(): Promise<ExperimentRecord[]> {
    const [rows, traced] = await Promise.all([this.storedRows(), this.tracedProjects()]);
    const out = new Map<string, ExperimentRecord>(rows.map((r) => [r.name, this.record(r)]));
    for (const p of [DEFAULT_PROJECT, ...traced]) if (!out.has(p)) out.set(p, this.implicit(p));
    return [...out.values()];
  }

  async create(project: string, artifactLocation: string, tags: Record<string, string>): Promise<ExperimentRecord> {
    const now = Date.now();
    const row: ExperimentRow = {
      experiment_id: experimentIdFor(project),
      name: project,
      artifact_location: artifactLocation,
      tags,
      creation_time_ms: String(now),
      version: nowNs().toString(),
    };
    await insertRows(this.writer, 'experiments', [row]);
    return this.record(row);
  }

  async setTag(e: ExperimentRecord, key: string, value: string): Promise<void> {
    await insertRows(this.writer, 'experiments', [
      {
        experiment_id: e.experimentId,
        name: e.project,
        artifact_location: e.artifactLocation,
        tags: { ...e.tags, [key]: value },
        creation_time_ms: String(e.creationTimeMs || Date.now()),
        version: nowNs().toString(),
      } satisfies ExperimentRow,
    ]);
  }
}

export interface TraceMetaChange {
  field: TraceMetaField;
  key: string;
  value: string;
  deleted?: boolean;
}

/** Trace-level keys: each change one row, so concurrent writers of different keys never collide. */
export class TraceMetaWriter {
  constructor(private readonly writer: ClickHouseClient) {}

  async write(project: string, traceId: string, changes: readonly TraceMetaChange[]): Promise<void> {
    const rows: TraceMetaRow[] = changes.map((c) => ({
      project,
      trace_id: traceId,
      field: c.field,
      key: c.key,
      value: c.value,
      version: nowNs().toString(),
      deleted: c.deleted ? 1 : 0,
    }));
    await insertRows(this.writer, 'trace_meta', rows);
  }
}

/** A run as MLflow's REST API renders it (`Run`: info, data, inputs). */
export interface RunDoc {
  info: {
    run_id: string;
    run_uuid: string;
    run_name: string;
    experiment_id: string;
    user_id: string;
    status: string;
    start_time: number;
    end_time?: number;
    artifact_uri: string;
    lifecycle_stage: string;
  };
  data: {
    metrics: Array<{ key: string; value: number; timestamp: number; step: number }>;
    params: Array<{ key: string; value: string }>;
    tags: Array<{ key: string; value: string }>;
  };
  inputs: { dataset_inputs: unknown[]; model_inputs?: unknown[] };
}

/** Runs as whole documents, one version per change; changes to one run are serialized in this process. */
export class RunStore {
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly writer: ClickHouseClient,
    private readonly reader: ClickHouseClient,
  ) {}

  async get(runId: string): Promise<RunDoc | null> {
    const rs = await this.reader.query({
      query: 'SELECT argMax(doc, version) AS doc FROM runs WHERE run_id = {id:String} GROUP BY run_id',
      query_params: { id: runId },
      format: 'JSONEachRow',
    });
    const [row] = await rs.json<{ doc: string }>();
    return row ? (JSON.parse(row.doc) as RunDoc) : null;
  }

  async search(experimentIds: readonly string[]): Promise<RunDoc[]> {
    const rs = await this.reader.query({
      query: `SELECT argMax(doc, version) AS doc FROM runs WHERE experiment_id IN {ids:Array(String)} GROUP BY run_id`,
      query_params: { ids: experimentIds },
      format: 'JSONEachRow',
    });
    return (await rs.json<{ doc: string }>()).map((r) => JSON.parse(r.doc) as RunDoc);
  }

  private async save(doc: RunDoc): Promise<void> {
    const row: RunRow = { run_id: doc.info.run_id, experiment_id: doc.info.experiment_id, doc: JSON.stringify(doc), version: nowNs().toString() };
    await insertRows(this.writer, 'runs', [row]);
  }

  async create(
    init: Omit<RunDoc['info'], 'run_id' | 'run_uuid' | 'artifact_uri' | 'lifecycle_stage' | 'status'>,
    tags: RunDoc['data']['tags'],
  ): Promise<RunDoc> {
    const runId = randomUUID().replace(/-/g, '');
    const doc: RunDoc = {
      info: { ...init, run_id: runId, run_uuid: runId, status: 'RUNNING', artifact_uri: '', lifecycle_stage: 'active' },
      data: { metrics: [], params: [], tags },
      inputs: { dataset_inputs: [] },
    };
    await this.save(doc);
    return doc;
  }

  /** Applies `change` to the current document and stores the result; null when there is no such run. */
  update(runId: string, change: (doc: RunDoc) => void): Promise<RunDoc | null> {
    const previous = this.chains.get(runId) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        const doc = await this.get(runId);
        if (!doc) return null;
        change(doc);
        await this.save(doc);
        return doc;
      });
    this.chains.set(runId, next);
    void next.finally(() => {
      if (this.chains.get(runId) === next) this.chains.delete(runId);
    });
    return next;
  }
}

/** Removes traces with everything stored about them. Returns how many of them existed. */
export async function deleteTraces(writer: ClickHouseClient, project: string, traceIds: readonly string[]): Promise<number> {
  if (traceIds.length === 0) return 0;
  const params = { project, ids: traceIds };
  const rs = await writer.query({
    query: 'SELECT count(DISTINCT trace_id) AS n FROM traces WHERE project = {project:String} AND trace_id IN {ids:Array(String)}',
    query_params: params,
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ n: string | number }>();
  for (const table of ['spans', 'span_index', 'traces', 'events', 'assessments', 'trace_meta']) {
    await writer.command({ query: `DELETE FROM ${table} WHERE project = {project:String} AND trace_id IN {ids:Array(String)}`, query_params: params });
  }
  return Number(row?.n ?? 0);
}
