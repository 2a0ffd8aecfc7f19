/** The request messages this API reads, as zod schemas: unknown fields are ignored, as protobuf's parser does. */
import { z } from 'zod';

const kv = z.looseObject({ key: z.string().min(1).max(1000), value: z.string().max(100_000).default('') });
const int = z.union([z.number(), z.string().regex(/^-?\d+$/)]).transform((v) => Number(v));

export const createExperimentBody = z.looseObject({
  name: z.string().min(1, 'name is required').max(500),
  artifact_location: z.string().max(2000).optional(),
  tags: z.array(kv).max(100).default([]),
});

export const setExperimentTagBody = z.looseObject({ experiment_id: z.string().min(1), key: z.string().min(1).max(250), value: z.string().max(5000) });

export const searchExperimentsBody = z.looseObject({
  max_results: int.optional(),
  page_token: z.string().max(500).optional(),
  filter: z.string().max(5000).optional(),
  view_type: z.string().optional(),
});

const location = z.looseObject({
  type: z.string().optional(),
  mlflow_experiment: z.looseObject({ experiment_id: z.string().min(1) }).optional(),
});

export const searchTracesBody = z.looseObject({
  locations: z.array(location).max(100).default([]),
  /** Older clients name experiments directly. */
  experiment_ids: z.array(z.string()).max(100).default([]),
  filter: z.string().max(10_000).default(''),
  max_results: int.pipe(z.number().int().min(1).max(1000)).default(100),
  order_by: z.array(z.string().max(200)).max(5).default([]),
  page_token: z.string().max(1000).optional(),
});

export const traceInfoBody = z.looseObject({
  trace_id: z.string(),
  client_request_id: z.string().max(1000).optional(),
  trace_location: z.looseObject({ type: z.string().optional(), mlflow_experiment: z.looseObject({ experiment_id: z.string().min(1) }).optional() }).optional(),
  request_time: z.string().optional(),
  execution_duration: z.string().optional(),
  state: z.string().optional(),
  trace_metadata: z.record(z.string(), z.string()).default({}),
  tags: z.record(z.string(), z.string()).default({}),
  assessments: z.array(z.record(z.string(), z.unknown())).max(1000).default([]),
  request_preview: z.string().optional(),
  response_preview: z.string().optional(),
});

export const startTraceBody = z.looseObject({ trace: z.looseObject({ trace_info: traceInfoBody }) });

export const traceTagBody = z.looseObject({ key: z.string().min(1).max(250), value: z.string().max(100_000).default('') });
export const traceTagKeyBody = z.looseObject({ key: z.string().min(1).max(250) });

export const batchIdsBody = z.looseObject({ trace_ids: z.array(z.string()).max(1000).default([]) });

export const linkToRunBody = z.looseObject({ trace_ids: z.array(z.string()).max(100, 'at most 100 trace ids per call'), run_id: z.string().min(1) });

export const deleteTracesBody = z.looseObject({
  experiment_id: z.string().min(1, 'experiment_id is required'),
  max_timestamp_millis: int.optional(),
  max_traces: int.optional(),
  request_ids: z.array(z.string()).max(1000).default([]),
});

const source = z.looseObject({ source_type: z.string().default('CODE'), source_id: z.string().max(256).optional() });
export const assessmentBody = z.looseObject({
  assessment_id: z.string().optional(),
  assessment_name: z.string().optional(),
  trace_id: z.string().optional(),
  span_id: z.string().optional(),
  source: source.optional(),
  feedback: z
    .looseObject({
      value: z.unknown().optional(),
      error: z.looseObject({ error_code: z.string().optional(), error_message: z.string().optional(), stack_trace: z.string().optional() }).optional(),
    })
    .optional(),
  expectation: z
    .looseObject({
      value: z.unknown().optional(),
      serialized_value: z.looseObject({ serialization_format: z.string().optional(), value: z.string() }).optional(),
    })
    .optional(),
  rationale: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  overrides: z.string().optional(),
  valid: z.boolean().optional(),
});
export const createAssessmentBody = z.looseObject({ assessment: assessmentBody });
export const updateAssessmentBody = z.looseObject({ assessment: assessmentBody, update_mask: z.string().default('') });

export const createRunBody = z.looseObject({
  experiment_id: z.string().min(1).default('0'),
  user_id: z.string().max(256).default(''),
  run_name: z.string().max(500).optional(),
  start_time: int.optional(),
  tags: z.array(kv).max(1000).default([]),
});
export const updateRunBody = z.looseObject({
  run_id: z.string().optional(),
  run_uuid: z.string().optional(),
  status: z.string().optional(),
  end_time: int.optional(),
  run_name: z.string().max(500).optional(),
});
export const runTagBody = z.looseObject({
  run_id: z.string().optional(),
  run_uuid: z.string().optional(),
  key: z.string().min(1).max(250),
  value: z.string().max(100_000).default(''),
});
export const runDeleteTagBody = z.looseObject({ run_id: z.string().min(1), key: z.string().min(1) });
const metric = z.looseObject({
  key: z.string().min(1).max(250),
  value: z.union([z.number(), z.string()]).transform(Number),
  timestamp: int.default(0),
  step: int.default(0),
});
export const logBatchBody = z.looseObject({
  run_id: z.string().min(1),
  metrics: z.array(metric).max(1000).default([]),
  params: z.array(kv).max(100).default([]),
  tags: z.array(kv).max(100).default([]),
});
export const logMetricBody = metric.extend({ run_id: z.string().optional(), run_uuid: z.string().optional() });
export const logParamBody = kv.extend({ run_id: z.string().optional(), run_uuid: z.string().optional() });
export const logInputsBody = z.looseObject({
  run_id: z.string().min(1),
  datasets: z.array(z.unknown()).max(100).default([]),
  models: z.array(z.unknown()).max(100).default([]),
});
export const logOutputsBody = z.looseObject({ run_id: z.string().min(1), models: z.array(z.unknown()).max(100).default([]) });
export const searchRunsBody = z.looseObject({ experiment_ids: z.array(z.string()).max(100).default([]), max_results: int.optional() });
