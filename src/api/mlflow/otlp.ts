/**
 * MLflow's span export: OTLP/HTTP protobuf (or JSON) on the API port at `/v1/traces`, naming its
 * experiment in `x-mlflow-experiment-id`. The spans go to the process's bus like any receiver's, and the
 * answer comes once they are durable there.
 */
import type { IncomingMessage } from 'node:http';
import type { Publisher, SpanGroup } from '../../component/consumer.js';
import { PipelineError } from '../../component/errors.js';
import { decodeTraceRequest, OtlpDecodeError } from '../../otlp/decode.js';
import { validateTraceRequest } from '../../otlp/validate.js';
import { readRaw } from './body.js';
import { MlflowError } from './errors.js';
import type { ExperimentRecord } from './store.js';

export const EXPERIMENT_HEADER = 'x-mlflow-experiment-id';

export async function ingestOtlp(req: IncomingMessage, publisher: Publisher | undefined, experiment: (id: string) => Promise<ExperimentRecord>): Promise<void> {
  if (!publisher) throw new MlflowError('ENDPOINT_NOT_FOUND', 'this process takes no spans: send them to a process that runs the API with a bus');
  const header = req.headers[EXPERIMENT_HEADER];
  const experimentId = (Array.isArray(header) ? header[0] : header)?.trim() || '0';
  const { project } = await experiment(experimentId);
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  const format = type === 'application/json' ? 'json' : 'protobuf';
  const body = await readRaw(req);
  let request: ReturnType<typeof decodeTraceRequest>;
  try {
    request = decodeTraceRequest(body, format);
  } catch (err) {
    if (err instanceof OtlpDecodeError) throw new MlflowError('INVALID_PARAMETER_VALUE', `not an OTLP trace export request: ${err.message}`);
    throw err;
  }
  const { accepted, errors } = validateTraceRequest(request);
  const groups: SpanGroup[] = [];
  for (const rs of accepted.resourceSpans) {
    for (const ss of rs.scopeSpans) if (ss.spans.length) groups.push({ project, resource: rs.resource, scope: ss.scope, spans: ss.spans });
  }
  if (errors.length && groups.length === 0) throw new MlflowError('INVALID_PARAMETER_VALUE', `no valid span: ${errors.slice(0, 3).join('; ')}`);
  if (groups.length === 0) return;
  try {
    await publisher.publish({ spans: groups, logs: [] });
  } catch (err) {
    if (err instanceof PipelineError && err.errorClass === 'permanent') throw new MlflowError('INVALID_PARAMETER_VALUE', err.message);
    if (err instanceof PipelineError && err.errorClass === 'too_large') throw new MlflowError('INVALID_PARAMETER_VALUE', err.message);
    throw err;
  }
}
