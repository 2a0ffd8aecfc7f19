import { decodeLogsRequest, decodeTraceRequest, scanTraceIdsProtobuf } from '../../otlp/decode.js';
import { validateLogsRequest, validateTraceRequest } from '../../otlp/validate.js';
import { DEFAULT_PROJECT, PROJECT_ATTRIBUTE, PROJECT_RE, resolveProject } from '../../model/project.js';
import type { IngestBatch, SpanIdGroup } from '../../component/consumer.js';
import { KAFKA_PROJECT_HEADER } from './messages.js';

/** What a bus message carries, by its topic. */
export type BusSignal = 'spans' | 'logs';

/** A Kafka message's headers as kafkajs gives them. */
export type RawHeaders = Record<string, Buffer | string | Array<Buffer | string> | undefined>;

export function header(headers: RawHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : first.toString();
}

/** The project header, if any; a message with an invalid one can never be used. */
function projectHeader(headers: RawHeaders | undefined): string | undefined {
  const project = header(headers, KAFKA_PROJECT_HEADER);
  if (project !== undefined && !PROJECT_RE.test(project)) throw new Error(`invalid ${KAFKA_PROJECT_HEADER} header "${project.slice(0, 64)}"`);
  return project;
}

/**
 * One bus message back into an ingest batch. Throws when the message can never be used (not OTLP, bad
 * project header): the writer moves such messages to the dead-letter topic. Messages from other OTLP
 * producers (a Collector's Kafka exporter) carry no project header and fall back to the resource
 * attribute, then `defaultProject` (the topic's `bus.kafka.default_project`); invalid spans inside are
 * dropped as the receivers would.
 */
export function decodeBusMessage(signal: BusSignal, value: Buffer | null, headers: RawHeaders | undefined, defaultProject = DEFAULT_PROJECT): IngestBatch {
  if (!value) throw new Error('empty message');
  const project = projectHeader(headers);
  const batch: IngestBatch = { spans: [], logs: [] };
  if (signal === 'spans') {
    const { accepted } = validateTraceRequest(decodeTraceRequest(value, 'protobuf'));
    for (const rs of accepted.resourceSpans) {
      const p = resolveProject(project, rs.resource.attributes, defaultProject);
      if (p === null) continue;
      for (const ss of rs.scopeSpans) batch.spans.push({ project: p, resource: rs.resource, scope: ss.scope, spans: ss.spans });
    }
  } else {
    const { accepted } = validateLogsRequest(decodeLogsRequest(value, 'protobuf'));
    for (const rl of accepted.resourceLogs) {
      const p = resolveProject(project, rl.resource.attributes, defaultProject);
      if (p === null) continue;
      for (const sl of rl.scopeLogs) batch.logs.push({ project: p, resource: rl.resource, scope: sl.scope, records: sl.logRecords });
    }
  }
  return batch;
}

/**
 * The spans of a spans-topic message by id only, grouped and assigned to projects exactly as
 * `decodeBusMessage` would (same throws, same dropped spans and resources), without decoding the rest:
 * the resource is read only for its project attribute, and only when there is no project header.
 */
export function scanBusSpanIds(value: Buffer | null, headers: RawHeaders | undefined, defaultProject = DEFAULT_PROJECT): SpanIdGroup[] {
  if (!value) throw new Error('empty message');
  const project = projectHeader(headers);
  const groups: SpanIdGroup[] = [];
  for (const rs of scanTraceIdsProtobuf(value, project === undefined ? [PROJECT_ATTRIBUTE] : [])) {
    const p = resolveProject(project, rs.attributes, defaultProject);
    if (p === null) continue;
    for (const spans of rs.scopes) groups.push({ project: p, spans });
  }
  return groups;
}
