/**
 * The OTLP protobuf schema, loaded once by reflection from the `.proto` files shipped in `proto/`.
 * Used to encode responses, for enum names, for gRPC service definitions, and as the source of the
 * field tags the request decoder (`decode.ts`) walks the wire with.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Long from 'long';
import protobuf from 'protobufjs';

// Anything decoded by reflection must keep 64-bit values exact (span times exceed 2^53): make
// protobufjs use Long for int64/fixed64. (The request decoder reads those fields itself.)
protobuf.util.Long = Long;
protobuf.configure();

/** `proto/` at the package root; both `src/otlp/` and `dist/otlp/` sit two levels below it. */
export const PROTO_DIR: string = fileURLToPath(new URL('../../proto/', import.meta.url));

/** Every schema file, dependencies first. */
export const PROTO_FILES: readonly string[] = [
  'google/protobuf/any.proto',
  'google/rpc/status.proto',
  'opentelemetry/proto/common/v1/common.proto',
  'opentelemetry/proto/resource/v1/resource.proto',
  'opentelemetry/proto/trace/v1/trace.proto',
  'opentelemetry/proto/logs/v1/logs.proto',
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'opentelemetry/proto/collector/logs/v1/logs_service.proto',
];

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  // Parse the sources ourselves rather than Root.loadSync: loadSync swaps google/protobuf/*.proto for
  // protobufjs' bundled copies and resolves imports relative to the importing file, not PROTO_DIR.
  for (const file of PROTO_FILES) {
    const source = readFileSync(PROTO_DIR + file, 'utf8');
    protobuf.parse(source, root, { keepCase: false });
  }
  root.resolveAll();
  return root;
}

/** The loaded schema; field names are camelCase (protobufjs default). */
export const otlpRoot: protobuf.Root = loadRoot();

export const ExportTraceServiceRequest: protobuf.Type = otlpRoot.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
export const ExportTraceServiceResponse: protobuf.Type = otlpRoot.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
export const ExportLogsServiceRequest: protobuf.Type = otlpRoot.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
export const ExportLogsServiceResponse: protobuf.Type = otlpRoot.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse');
export const RpcStatus: protobuf.Type = otlpRoot.lookupType('google.rpc.Status');
export const TraceService: protobuf.Service = otlpRoot.lookupService('opentelemetry.proto.collector.trace.v1.TraceService');
export const LogsService: protobuf.Service = otlpRoot.lookupService('opentelemetry.proto.collector.logs.v1.LogsService');

export const SpanKindEnum: protobuf.Enum = otlpRoot.lookupEnum('opentelemetry.proto.trace.v1.Span.SpanKind');
export const StatusCodeEnum: protobuf.Enum = otlpRoot.lookupEnum('opentelemetry.proto.trace.v1.Status.StatusCode');
export const SeverityNumberEnum: protobuf.Enum = otlpRoot.lookupEnum('opentelemetry.proto.logs.v1.SeverityNumber');

/** Protobuf wire types (the low 3 bits of a field tag). */
export const WireType = { VARINT: 0, I64: 1, LEN: 2, SGROUP: 3, EGROUP: 4, I32: 5 } as const;

function wireTypeOf(field: protobuf.Field): number {
  if (field.resolvedType instanceof protobuf.Enum) return WireType.VARINT;
  if (field.resolvedType instanceof protobuf.Type) return WireType.LEN;
  switch (field.type) {
    case 'string':
    case 'bytes':
      return WireType.LEN;
    case 'fixed64':
    case 'sfixed64':
    case 'double':
      return WireType.I64;
    case 'fixed32':
    case 'sfixed32':
    case 'float':
      return WireType.I32;
    default:
      return WireType.VARINT;
  }
}

/**
 * Wire tags (field number << 3 | wire type) of the named fields of a message, taken from the loaded
 * schema so the hand-written decoder cannot drift from the `.proto` files. Throws at startup if a
 * field is missing.
 */
export function fieldTags<K extends string>(typeName: string, names: readonly K[]): Record<K, number> {
  const type = otlpRoot.lookupType(typeName);
  const out = {} as Record<K, number>;
  for (const name of names) {
    const field = type.fields[name];
    if (field === undefined) throw new Error(`${typeName} has no field ${name}`);
    field.resolve();
    out[name] = (field.id << 3) | wireTypeOf(field);
  }
  return out;
}

/**
 * Every field of a message by number, with the wire types it may arrive in: its own, and LEN too for a
 * repeated scalar (packed). A known field on another wire type is malformed, not unknown.
 */
export function fieldWireTypes(typeName: string): ReadonlyMap<number, readonly number[]> {
  const type = otlpRoot.lookupType(typeName);
  const out = new Map<number, readonly number[]>();
  for (const field of type.fieldsArray) {
    field.resolve();
    const own = wireTypeOf(field);
    out.set(field.id, field.repeated && own !== WireType.LEN ? [own, WireType.LEN] : [own]);
  }
  return out;
}
