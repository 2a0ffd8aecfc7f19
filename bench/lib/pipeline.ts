/**
 * The server's per-request steps, reused by the benchmarks that skip the network: decode + validate an
 * OTLP body into the bus's SpanGroups (as IngestHandler does), and build the `spans` rows from them (as
 * StoreWriter does). Kept here so every benchmark measures the same code path the server runs.
 */
import type { SpanGroup } from '../../src/component/consumer.js';
import { decodeTraceRequest } from '../../src/otlp/decode.js';
import { validateTraceRequest } from '../../src/otlp/validate.js';
import { buildSpanRow, flattenAttributes } from '../../src/exporters/clickhouse/rows.js';
import type { SpanRow } from '../../src/exporters/clickhouse/tables.js';

export function decodeToGroups(body: Buffer, project: string): SpanGroup[] {
  const { accepted, rejected, errors } = validateTraceRequest(decodeTraceRequest(body, 'protobuf'));
  // Generated spans are valid by construction; a rejection means the generator or decoder broke.
  if (rejected) throw new Error(`generated request had ${rejected} invalid span(s): ${errors.join('; ')}`);
  const groups: SpanGroup[] = [];
  for (const rs of accepted.resourceSpans) {
    for (const ss of rs.scopeSpans) groups.push({ project, resource: rs.resource, scope: ss.scope, spans: ss.spans });
  }
  return groups;
}

export function buildRows(groups: readonly SpanGroup[]): SpanRow[] {
  const rows: SpanRow[] = [];
  for (const group of groups) {
    const resourceAttrs = flattenAttributes(group.resource.attributes);
    for (const span of group.spans) rows.push(buildSpanRow(group, span, resourceAttrs));
  }
  return rows;
}
