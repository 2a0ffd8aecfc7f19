/**
 * OTLP export responses and google.rpc.Status error bodies, in protobuf or OTLP/JSON.
 *
 * JSON is written by hand: the shapes are tiny and fixed, and proto3 JSON wants int64 as a decimal
 * string and default values omitted, which is simpler to state directly than to configure.
 */
import Long from 'long';
import type protobuf from 'protobufjs';
import { ExportLogsServiceResponse, ExportTraceServiceResponse, RpcStatus } from './proto.js';
import type { OtlpFormat } from './decode.js';

export interface PartialSuccess {
  rejected: number;
  message: string;
}

/** An empty message is zero bytes in protobuf and `{}` in JSON. */
const EMPTY_JSON = Buffer.from('{}');
const EMPTY_PB = Buffer.alloc(0);

function pbBytes(type: protobuf.Type, payload: Record<string, unknown>): Buffer {
  const bytes = type.encode(type.fromObject(payload)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function int64(n: number): Long {
  return Long.fromNumber(Math.max(0, Math.trunc(n)));
}

function encodeExportResponse(
  type: protobuf.Type,
  countField: 'rejectedSpans' | 'rejectedLogRecords',
  partial: PartialSuccess | null,
  format: OtlpFormat,
): Buffer {
  // A partial success with nothing rejected and no message carries no information: send plain success.
  if (partial === null || (partial.rejected <= 0 && partial.message === '')) {
    return format === 'json' ? EMPTY_JSON : EMPTY_PB;
  }
  const rejected = Math.max(0, Math.trunc(partial.rejected));
  if (format === 'json') {
    const body: Record<string, string> = {};
    if (rejected > 0) body[countField] = String(rejected);
    if (partial.message !== '') body.errorMessage = partial.message;
    return Buffer.from(JSON.stringify({ partialSuccess: body }));
  }
  return pbBytes(type, { partialSuccess: { [countField]: int64(rejected), errorMessage: partial.message } });
}

/** ExportTraceServiceResponse; `null` means full success. */
export function encodeTraceResponse(partial: PartialSuccess | null, format: OtlpFormat): Buffer {
  return encodeExportResponse(ExportTraceServiceResponse, 'rejectedSpans', partial, format);
}

/** ExportLogsServiceResponse; `null` means full success. */
export function encodeLogsResponse(partial: PartialSuccess | null, format: OtlpFormat): Buffer {
  return encodeExportResponse(ExportLogsServiceResponse, 'rejectedLogRecords', partial, format);
}

/** google.rpc.Status with no details: the body OTLP/HTTP prescribes for 4xx/5xx responses. */
export function encodeStatus(code: number, message: string, format: OtlpFormat): Buffer {
  const c = Math.trunc(code) | 0;
  if (format === 'json') {
    const body: Record<string, number | string> = {};
    if (c !== 0) body.code = c;
    if (message !== '') body.message = message;
    return Buffer.from(JSON.stringify(body));
  }
  return pbBytes(RpcStatus, { code: c, message });
}
