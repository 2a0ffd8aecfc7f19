import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { assessmentRow, nowNs, type AssessmentRecord } from './model.js';
import { readAssessmentHistory, readAssessments } from './read.js';
import { insertRows } from '../exporters/clickhouse/insert.js';
import { classifyStoreError } from '../component/errors.js';

export type NewAssessment = Omit<AssessmentRecord, 'assessmentId' | 'version' | 'createdTimeNs' | 'lastUpdatedTimeNs' | 'deleted' | 'overrides' | 'valid'> & {
  valid?: boolean;
  overrides?: string;
};

export type AssessmentPatch = Partial<Pick<AssessmentRecord, 'value' | 'rationale' | 'metadata' | 'name' | 'valid'>>;

/**
 * Assessments as an append-only log of versions: creating, editing, invalidating and deleting each insert
 * one row; readers take the highest version per id. Two writers never lose each other's assessments
 * because each create has its own id.
 */
export class AssessmentStore {
  constructor(
    private readonly writer: ClickHouseClient,
    private readonly reader: ClickHouseClient,
  ) {}

  /** Rejects with a classified PipelineError (refused as invalid, or the store unavailable). */
  async insert(records: readonly AssessmentRecord[]): Promise<void> {
    const rows = records.map(assessmentRow);
    try {
      await insertRows(this.writer, 'assessments', rows);
    } catch (err) {
      throw classifyStoreError(err);
    }
  }

  async create(a: NewAssessment, id: string = `a-${randomUUID().replace(/-/g, '')}`): Promise<AssessmentRecord> {
    const now = nowNs();
    const record: AssessmentRecord = {
      ...a,
      assessmentId: id,
      version: now,
      createdTimeNs: now,
      lastUpdatedTimeNs: now,
      valid: a.valid ?? true,
      deleted: false,
      overrides: a.overrides ?? '',
    };
    await this.insert([record]);
    return record;
  }

  /** Current versions of a trace's assessments, deleted ones left out, oldest first. */
  async list(project: string, traceId: string): Promise<AssessmentRecord[]> {
    return readAssessments(this.reader, project, [traceId]);
  }

  /** Current version of one assessment of a trace; null when unknown or deleted. */
  async get(project: string, traceId: string, assessmentId: string): Promise<AssessmentRecord | null> {
    const history = await this.history(project, traceId, assessmentId);
    const current = history[history.length - 1];
    return current && !current.deleted ? current : null;
  }

  /** Every version, oldest first. */
  async history(project: string, traceId: string, assessmentId: string): Promise<AssessmentRecord[]> {
    return readAssessmentHistory(this.reader, project, traceId, assessmentId);
  }

  async update(current: AssessmentRecord, patch: AssessmentPatch): Promise<AssessmentRecord> {
    const now = nowNs();
    const next: AssessmentRecord = {
      ...current,
      ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
      version: now > current.version ? now : current.version + 1n,
      lastUpdatedTimeNs: now,
    };
    await this.insert([next]);
    return next;
  }

  async remove(current: AssessmentRecord): Promise<void> {
    const now = nowNs();
    await this.insert([{ ...current, deleted: true, version: now > current.version ? now : current.version + 1n, lastUpdatedTimeNs: now }]);
  }

  /**
   * Replaces a feedback with a new one that points back at it, and marks the old one invalid (as
   * mlflow.override_feedback does). The new assessment is written first: a crash in between leaves both
   * valid, never neither.
   */
  async override(current: AssessmentRecord, replacement: Omit<NewAssessment, 'project' | 'traceId' | 'name' | 'kind' | 'spanId'>): Promise<AssessmentRecord> {
    const created = await this.create({
      ...replacement,
      project: current.project,
      traceId: current.traceId,
      spanId: current.spanId,
      name: current.name,
      kind: current.kind,
      overrides: current.assessmentId,
    });
    const now = nowNs();
    await this.insert([{ ...current, valid: false, version: now > current.version ? now : current.version + 1n, lastUpdatedTimeNs: now }]);
    return created;
  }
}
