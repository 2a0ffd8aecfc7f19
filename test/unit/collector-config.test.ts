import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KAFKA_PROJECT_HEADER } from '../../src/bus/kafka/messages.js';
import { loadConfig } from '../../src/config/load.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The README's example Collector config: it must name the settings tracehouse documents, with tracehouse's defaults. */
describe('the README example of a Collector beside tracehouse', () => {
  const m = /A Collector beside tracehouse[^\n]*\n[^\n]*\n\n```yaml\n([\s\S]*?)```/.exec(readme);
  const collector = parse(m?.[1] ?? '') as {
    receivers: { otlp: { protocols: Record<'grpc' | 'http', { include_metadata: boolean }> } };
    processors: { batch: { metadata_keys: string[] } };
    exporters: {
      kafka: {
        traces: { topic: string; encoding: string };
        logs: { topic: string; encoding: string };
        partition_traces_by_id: boolean;
        include_metadata_keys: string[];
        record_partitioner: { sticky_key: { hasher: string } };
        producer: { compression: string };
      };
    };
    service: { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
  };
  const defaults = loadConfig({ env: {} }).bus.kafka;

  it('is in the README and parses as YAML', () => {
    expect(m).not.toBeNull();
    expect(collector.exporters.kafka).toBeDefined();
  });

  it('keeps the project: metadata on the OTLP receiver, batched by it, sent on as the header', () => {
    expect(collector.receivers.otlp.protocols.grpc.include_metadata).toBe(true);
    expect(collector.receivers.otlp.protocols.http.include_metadata).toBe(true);
    expect(collector.processors.batch.metadata_keys).toContain(KAFKA_PROJECT_HEADER);
    expect(collector.exporters.kafka.include_metadata_keys).toContain(KAFKA_PROJECT_HEADER);
  });

  it("writes what tracehouse's writers read, where they read it, on the same partitions", () => {
    const k = collector.exporters.kafka;
    expect(k.traces).toEqual({ topic: defaults.topics.spans, encoding: 'otlp_proto' });
    expect(k.logs).toEqual({ topic: defaults.topics.logs, encoding: 'otlp_proto' });
    expect(k.partition_traces_by_id).toBe(true);
    expect(k.record_partitioner.sticky_key.hasher).toBe(defaults.partitioner);
    // Any codec the Collector offers is one the writers read.
    expect(['none', 'gzip', 'snappy', 'lz4', 'zstd']).toContain(k.producer.compression);
    expect(loadConfig({ env: {}, overrides: { 'bus.kafka.compression': k.producer.compression } }).bus.kafka.compression).toBe(k.producer.compression);
  });

  it('wires every pipeline through the batch processor to the Kafka exporter', () => {
    for (const p of Object.values(collector.service.pipelines)) {
      expect(p).toEqual({ receivers: ['otlp'], processors: ['batch'], exporters: ['kafka'] });
    }
  });
});
