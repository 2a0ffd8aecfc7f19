import { decodeLogsRequest, decodeTraceRequest } from '../../otlp/decode.js';
import { validateLogsRequest, validateTraceRequest } from '../../otlp/validate.js';
import { PROJECT_RE, resolveProject } from '../../model/project.js';
import type { IngestBatch } from '../../component/consumer.js';
import { KAFKA_PROJECT_HEADER } from './messages.js';

/** What a bus message carries, by its topic. */
export type BusSignal = 'spans' | 'logs';

/** A Kafka message's headers as kafkajs gives them. */
export type RawHeaders = Record<string, Buffer | string | Array<Buffer | string> | undefined>;

function header(headers: RawHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : first.toString();
}

/**
 * One bus message back into an ingest batch. Throws when the message can never be used (not OTLP, bad
 * project header): the writer moves such messages to the dead-letter topic. Messages from other OTLP
 * producers (a Collector's Kafka exporter) carry no project header and fall back to the resource
 * attribute, then the default project; invalid spans inside are dropped as the receivers would.
 */
export function decodeBusMessage(signal: BusSignal, value: Buffer | null, headers: RawHeaders | undefined): IngestBatch {
  if (!value) throw new Error('empty message');
  const project = header(headers, KAFKA_PROJECT_HEADER);
  if (project !== undefined && !PROJECT_RE.test(project)) throw new Error(`invalid ${KAFKA_PROJECT_HEADER} header "${project.slice(0, 64)}"`);
  const batch: IngestBatch = { spans: [], logs: [] };
  if (signal === 'spans') {
    const { accepted } = validateTraceRequest(decodeTraceRequest(value, 'protobuf'));
    for (const rs of accepted.resourceSpans) {
      const p = resolveProject(project, rs.resource.attributes);
      if (p === null) continue;
      for (const ss of rs.scopeSpans) batch.spans.push({ project: p, resource: rs.resource, scope: ss.scope, spans: ss.spans });
    }
  } else {
    const { accepted } = validateLogsRequest(decodeLogsRequest(value, 'protobuf'));
    for (const rl of accepted.resourceLogs) {
      const p = resolveProject(project, rl.resource.attributes);
      if (p === null) continue;
      for (const sl of rl.scopeLogs) batch.logs.push({ project: p, resource: rl.resource, scope: sl.scope, records: sl.logRecords });
    }
  }
  return batch;
}
