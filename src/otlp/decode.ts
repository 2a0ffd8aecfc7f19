/**
 * OTLP export request bodies (protobuf or OTLP/JSON) → the plain model of `src/model/otlp.ts`.
 *
 * Both paths walk their input once and build the model directly: the protobuf path reads the wire
 * format itself (tags taken from the protobufjs-loaded schema), the JSON path walks JSON.parse
 * output. Nothing here rejects individual spans: malformed ids and times are passed through for
 * `validate.ts` to reject, so one bad span does not fail a whole batch. Only undecodable bodies
 * throw `OtlpDecodeError`.
 */
import type { LogsRequest, TraceRequest } from '../model/otlp.js';
import type { OtlpFormat } from './decode-common.js';
import { decodeLogsJson, decodeTraceJson } from './decode-json.js';
import { decodeLogsProtobuf, decodeTraceProtobuf } from './decode-protobuf.js';

export { OtlpDecodeError, u64ToDecimal, type OtlpFormat } from './decode-common.js';
export { scanTraceIdsProtobuf, type ResourceSpanIds } from './decode-protobuf.js';

export function decodeTraceRequest(body: Buffer, format: OtlpFormat): TraceRequest {
  return format === 'json' ? decodeTraceJson(body) : decodeTraceProtobuf(body);
}

export function decodeLogsRequest(body: Buffer, format: OtlpFormat): LogsRequest {
  return format === 'json' ? decodeLogsJson(body) : decodeLogsProtobuf(body);
}
