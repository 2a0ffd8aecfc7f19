/**
 * Contract tests of the MLflow REST API (src/api/mlflow/): each endpoint's JSON shapes as MLflow's client
 * parses them, and its errors as `{"error_code", "message"}` with MLflow's statuses.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { experimentIdFor } from '../../src/api/mlflow/ids.js';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { protobufBody, syntheticTrace } from '../helpers/synthetic.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.stop();
  removeDir(t.dataDir);
});

// biome-ignore lint/suspicious/noExplicitAny: the answers are JSON that the assertions walk freely
type Json = Record<string, any>;
const AUTH = { authorization: 'Bearer th-test-key' };

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${t.api}${path}`, {
    method,
    headers: { ...AUTH, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}

const V2 = '/api/2.0/mlflow';
const V3 = '/api/3.0/mlflow';

/** A trace as MLflow's client logs it: spans over OTLP to the API port, then StartTraceV3 with its info. */
async function logTrace(experimentId: string, metadata: Record<string, string> = {}): Promise<{ hex: string; tr: string }> {
  const { traceId, spans } = syntheticTrace(1);
  const root = spans[0] as (typeof spans)[number];
  spans[0] = {
    ...root,
    attributes: { ...root.attributes, 'mlflow.spanType': '"AGENT"', 'mlflow.spanInputs': '{"q": "hi", "n": [1, 2.5, null]}', 'mlflow.spanOutputs': '"hello"' },
  };
  const res = await fetch(`${t.api}/v1/traces`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip', 'x-mlflow-experiment-id': experimentId },
    body: gzipSync(protobufBody(spans)),
  });
  expect(res.status).toBe(200);
  const tr = `tr-${traceId}`;
  const start = await call('POST', `${V3}/traces`, {
    trace: {
      trace_info: {
        trace_id: tr,
        trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
        request_time: new Date().toISOString(),
        execution_duration: '0.050s',
        state: 'OK',
        trace_metadata: { 'mlflow.trace_schema.version': '3', ...metadata },
        tags: { 'mlflow.traceName': 'invoke_agent sales' },
        assessments: [{ assessment_name: 'inline', source: { source_type: 'HUMAN', source_id: 'u' }, feedback: { value: 1 } }],
      },
    },
  });
  expect(start.status).toBe(200);
  expect(start.body.trace.trace_info.tags['mlflow.trace.spansLocation']).toBe('TRACKING_STORE');
  expect(start.body.trace.trace_info.assessments[0].assessment_id).toMatch(/^a-[0-9a-f]{32}$/);
  return { hex: traceId, tr };
}

describe('MLflow REST API', () => {
  it('answers /version with a bare version that turns on OTLP span export (>= 3.4)', async () => {
    const res = await fetch(`${t.api}/version`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toMatch(/^3\.(\d+)\.\d+$/);
    expect(Number(text.split('.')[1])).toBeGreaterThanOrEqual(4);
  });

  it('maps experiments to projects with stable ids; experiment 0 is Default', async () => {
    const zero = await call('GET', `${V2}/experiments/get?experiment_id=0`);
    expect(zero).toMatchObject({ status: 200, body: { experiment: { experiment_id: '0', name: 'Default', lifecycle_stage: 'active' } } });
    expect((await call('GET', `${V2}/experiments/get-by-name?experiment_name=Default`)).body.experiment.experiment_id).toBe('0');
    const missing = await call('GET', `${V2}/experiments/get-by-name?experiment_name=nope`);
    expect(missing).toEqual({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: expect.any(String) } });

    const created = await call('POST', `${V2}/experiments/create`, { name: 'contract-app', tags: [{ key: 'team', value: 'a' }] });
    expect(created).toEqual({ status: 200, body: { experiment_id: experimentIdFor('contract-app') } });
    expect(created.body.experiment_id).toMatch(/^[1-9]\d*$/);
    expect((await call('POST', `${V2}/experiments/create`, { name: 'contract-app' })).body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
    const bad = await call('POST', `${V2}/experiments/create`, { name: 'has spaces/slash' });
    expect(bad).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
    const got = await call('GET', `${V2}/experiments/get?experiment_id=${created.body.experiment_id}`);
    expect(got.body.experiment).toMatchObject({ name: 'contract-app', tags: [{ key: 'team', value: 'a' }], creation_time: expect.any(Number) });
    expect((await call('GET', `${V2}/experiments/get?experiment_id=12345`)).status).toBe(404);
    const search = await call('POST', `${V2}/experiments/search`, { max_results: 10, filter: "name = 'contract-app'" });
    expect(search.body.experiments.map((e: Json) => e.name)).toEqual(['contract-app']);
  });

  it('logs a trace through OTLP and StartTraceV3, with session, user and metadata landing in tracehouse', async () => {
    const { hex, tr } = await logTrace('0', { 'mlflow.trace.session': 's-1', 'mlflow.trace.user': 'u-1', team: 'sales' });
    const info = await call('GET', `${V3}/traces/${tr}?trace_id=${tr}`);
    expect(info.status).toBe(200);
    const ti = info.body.trace.trace_info;
    expect(ti).toMatchObject({
      trace_id: tr,
      trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: '0' } },
      state: 'OK',
      trace_metadata: { 'mlflow.trace.session': 's-1', 'mlflow.trace.user': 'u-1', team: 'sales', 'mlflow.trace_schema.version': '3' },
      tags: { 'mlflow.trace.spansLocation': 'TRACKING_STORE', 'mlflow.traceName': 'invoke_agent sales' },
    });
    expect(ti.request_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(ti.execution_duration).toMatch(/^\d+(\.\d+)?s$/);
    expect(ti.assessments.map((a: Json) => a.assessment_name)).toEqual(['inline']);

    for (const id of [tr, hex]) {
      const own = await call('GET', `/api/v1/traces/${id}`);
      expect(own.status).toBe(200);
      expect(own.body.info).toMatchObject({ trace_id: hex, session_id: 's-1', user_id: 'u-1', trace_metadata: { team: 'sales' } });
    }
    const bySession = await call('GET', `/api/v1/traces?filter=${encodeURIComponent("trace.session_id = 's-1'")}`);
    expect(bySession.body.traces.map((x: Json) => x.trace_id)).toEqual([hex]);
  });

  it('returns spans as OTel proto JSON that mlflow.entities.Span parses (typed attribute values)', async () => {
    const { tr, hex } = await logTrace('0');
    const full = await call('GET', `${V3}/traces/get?trace_id=${tr}&allow_partial=False`);
    expect(full.status).toBe(200);
    const spans: Json[] = full.body.trace.spans;
    expect(spans).toHaveLength(3);
    const root = spans.find((s) => s.parent_span_id === undefined) as Json;
    expect(Buffer.from(root.trace_id, 'base64').toString('hex')).toBe(hex);
    expect(Buffer.from(root.span_id, 'base64')).toHaveLength(8);
    expect(root.start_time_unix_nano).toMatch(/^\d{19}$/);
    expect(root.status.code).toMatch(/^STATUS_CODE_/);
    const attr = (k: string) => root.attributes.find((a: Json) => a.key === k)?.value;
    expect(attr('mlflow.spanType')).toEqual({ string_value: 'AGENT' });
    expect(attr('mlflow.spanOutputs')).toEqual({ string_value: 'hello' });
    expect(attr('mlflow.spanInputs')).toEqual({
      kvlist_value: {
        values: [
          { key: 'q', value: { string_value: 'hi' } },
          { key: 'n', value: { array_value: { values: [{ int_value: '1' }, { double_value: 2.5 }, {}] } } },
        ],
      },
    });
    const batch = await call('GET', `${V3}/traces/batchGet?trace_ids=${tr}&trace_ids=tr-${'f'.repeat(32)}`);
    expect(batch.body.traces.map((x: Json) => x.trace_info.trace_id)).toEqual([tr]);
    const infos = await call('POST', `${V3}/traces/batchGetInfos`, { trace_ids: [tr, `tr-${'e'.repeat(32)}`] });
    expect(infos.body.trace_infos.map((x: Json) => x.trace_id)).toEqual([tr]);
    expect(await call('GET', `${V3}/traces/get?trace_id=tr-${'0'.repeat(32)}`)).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
    expect(await call('GET', `${V3}/traces/not-an-id`)).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
  });

  it('searches by experiment with filters, order_by and pages', async () => {
    const exp = experimentIdFor('paged');
    await call('POST', `${V2}/experiments/create`, { name: 'paged' });
    const logged = [];
    for (let i = 0; i < 3; i++) logged.push((await logTrace(exp)).tr);
    const locations = [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } }];
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await call('POST', `${V3}/traces/search`, {
        locations,
        max_results: 2,
        order_by: ['timestamp_ms ASC'],
        ...(token ? { page_token: token } : {}),
      });
      expect(page.status).toBe(200);
      seen.push(...page.body.traces.map((x: Json) => x.trace_id));
      token = page.body.next_page_token;
    } while (token);
    expect(seen.sort()).toEqual([...logged].sort());
    const ok = await call('POST', `${V3}/traces/search`, { locations, filter: "attributes.status = 'OK' AND tag.`mlflow.traceName` = 'invoke_agent sales'" });
    expect(ok.body.traces).toHaveLength(3);
    expect(await call('POST', `${V3}/traces/search`, { locations, filter: 'status = = 1' })).toMatchObject({
      status: 400,
      body: { error_code: 'INVALID_PARAMETER_VALUE' },
    });
    expect(await call('POST', `${V3}/traces/search`, { locations: [] })).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
    expect((await call('POST', `${V3}/traces/search`, { locations, page_token: 'garbage' })).status).toBe(400);
  });

  it('creates, reads, updates, overrides and deletes assessments on the same rows /api/v1 uses', async () => {
    const { tr, hex } = await logTrace('0');
    const created = await call('POST', `${V3}/traces/${tr}/assessments`, {
      assessment: {
        assessment_name: 'expected',
        trace_id: tr,
        source: { source_type: 'HUMAN', source_id: 'ann' },
        expectation: { serialized_value: { serialization_format: 'JSON_FORMAT', value: '{"a": [1, 2]}' } },
      },
    });
    expect(created.status).toBe(200);
    const a = created.body.assessment;
    expect(a).toMatchObject({ assessment_name: 'expected', trace_id: tr, expectation: { serialized_value: { value: '{"a":[1,2]}' } }, valid: true });
    const own = await call('GET', `/api/v1/traces/${hex}/assessments/${a.assessment_id}`);
    expect(own.body.assessment).toMatchObject({ kind: 'expectation', value: { a: [1, 2] }, source: { source_type: 'HUMAN', source_id: 'ann' } });

    const fb = (await call('POST', `${V3}/traces/${tr}/assessments`, { assessment: { assessment_name: 'thumbs', feedback: { value: true }, rationale: 'ok' } }))
      .body.assessment;
    expect(fb.source).toEqual({ source_type: 'CODE', source_id: 'default' });
    const patched = await call('PATCH', `${V3}/traces/${tr}/assessments/${fb.assessment_id}`, {
      assessment: { assessment_id: fb.assessment_id, trace_id: tr, feedback: { value: false }, rationale: 'changed' },
      update_mask: 'feedback,rationale',
    });
    expect(patched.body.assessment).toMatchObject({ feedback: { value: false }, rationale: 'changed' });
    const over = await call('POST', `${V3}/traces/${tr}/assessments`, {
      assessment: { assessment_name: 'thumbs', feedback: { value: true }, overrides: fb.assessment_id },
    });
    expect(over.body.assessment.overrides).toBe(fb.assessment_id);
    expect((await call('GET', `${V3}/traces/${tr}/assessments/${fb.assessment_id}`)).body.assessment.valid).toBe(false);
    const errFb = await call('POST', `${V3}/traces/${tr}/assessments`, {
      assessment: { assessment_name: 'judge', feedback: { error: { error_code: 'TimeoutError', error_message: 'slow' } } },
    });
    expect(errFb.body.assessment.feedback.error).toEqual({ error_code: 'TimeoutError', error_message: 'slow' });

    expect(await call('DELETE', `${V3}/traces/${tr}/assessments/${a.assessment_id}`, { trace_id: tr, assessment_id: a.assessment_id })).toEqual({
      status: 200,
      body: {},
    });
    expect((await call('GET', `${V3}/traces/${tr}/assessments/${a.assessment_id}`)).body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await call('POST', `${V3}/traces/${tr}/assessments`, { assessment: { feedback: { value: 1 } } })).body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect((await call('POST', `${V3}/traces/tr-${'1'.repeat(32)}/assessments`, { assessment: { assessment_name: 'x', feedback: { value: 1 } } })).status).toBe(
      404,
    );
  });

  it('sets and deletes trace tags (DELETE carries a JSON body), visible to tracehouse search', async () => {
    const { tr, hex } = await logTrace('0');
    expect(await call('PATCH', `${V2}/traces/${tr}/tags`, { key: 'env', value: 'prod' })).toEqual({ status: 200, body: {} });
    const found = await call('GET', `/api/v1/traces?filter=${encodeURIComponent("tag.env = 'prod'")}`);
    expect(found.body.traces.map((x: Json) => x.trace_id)).toEqual([hex]);
    expect(await call('DELETE', `${V2}/traces/${tr}/tags`, { key: 'env' })).toEqual({ status: 200, body: {} });
    expect((await call('GET', `${V3}/traces/${tr}`)).body.trace.trace_info.tags.env).toBeUndefined();
    expect((await call('DELETE', `${V2}/traces/${tr}/tags`, { key: 'env' })).body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('keeps runs, links traces to them, finds traces by run and deletes traces', async () => {
    const { tr } = await logTrace('0');
    const run = (await call('POST', `${V2}/runs/create`, { experiment_id: '0', run_name: 'eval', start_time: 1 })).body.run;
    expect(run.info).toMatchObject({ run_name: 'eval', experiment_id: '0', status: 'RUNNING', lifecycle_stage: 'active' });
    const id = run.info.run_id;
    expect(
      (
        await call('POST', `${V2}/runs/log-batch`, {
          run_id: id,
          metrics: [{ key: 'm/mean', value: 0.5, timestamp: 1, step: 0 }],
          params: [{ key: 'p', value: 'v' }],
        })
      ).status,
    ).toBe(200);
    expect((await call('POST', `${V2}/runs/set-tag`, { run_id: id, key: 'mlflow.runIsEvaluation', value: 'true' })).status).toBe(200);
    expect((await call('POST', `${V2}/runs/log-inputs`, { run_id: id, datasets: [{ dataset: { name: 'd' } }] })).status).toBe(200);
    const done = await call('POST', `${V2}/runs/update`, { run_id: id, status: 'FINISHED', end_time: 2 });
    expect(done.body.run_info).toMatchObject({ status: 'FINISHED', end_time: 2 });
    const got = (await call('GET', `${V2}/runs/get?run_id=${id}`)).body.run;
    expect(got.data.metrics).toEqual([{ key: 'm/mean', value: 0.5, timestamp: 1, step: 0 }]);
    expect(got.data.tags).toContainEqual({ key: 'mlflow.runIsEvaluation', value: 'true' });
    expect((await call('GET', `${V2}/runs/get?run_id=nope`)).body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');

    expect(await call('POST', `${V2}/traces/link-to-run`, { trace_ids: [tr], run_id: id })).toEqual({ status: 200, body: {} });
    const byRun = await call('POST', `${V3}/traces/search`, {
      locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: '0' } }],
      filter: `attribute.run_id = '${id}'`,
    });
    expect(byRun.body.traces.map((x: Json) => x.trace_id)).toEqual([tr]);
    expect((await call('POST', `${V2}/traces/link-to-run`, { trace_ids: [tr], run_id: 'nope' })).status).toBe(404);

    expect(await call('POST', `${V2}/traces/delete-traces`, { experiment_id: '0', request_ids: [tr] })).toEqual({ status: 200, body: { traces_deleted: 1 } });
    expect((await call('GET', `${V3}/traces/${tr}`)).status).toBe(404);
    expect((await call('GET', `/api/v1/traces/${tr}`)).status).toBe(404);
  });

  it('answers what it does not serve with ENDPOINT_NOT_FOUND and bad bodies with 400, never 500', async () => {
    expect(await call('GET', `${V2}/mlflow-artifacts/nothing`)).toMatchObject({ status: 404, body: { error_code: 'ENDPOINT_NOT_FOUND' } });
    expect(await call('PUT', `${V3}/traces/search`, {})).toMatchObject({ status: 404, body: { error_code: 'ENDPOINT_NOT_FOUND' } });
    const res = await fetch(`${t.api}${V2}/experiments/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error_code).toBe('MALFORMED_REQUEST');
    expect((await call('POST', `${V2}/experiments/create`, {})).body.error_code).toBe('INVALID_PARAMETER_VALUE');
    const otlp = await fetch(`${t.api}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'x-mlflow-experiment-id': '999' },
      body: Buffer.from([1]),
    });
    expect(otlp.status).toBe(404);
    const junk = await fetch(`${t.api}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: Buffer.from([0xff, 0xff, 0xff]),
    });
    expect(junk.status).toBe(400);
  });
});
