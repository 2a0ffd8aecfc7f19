import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const yamlFile = (text: string): string => {
  const file = join(mkdtempSync(join(tmpdir(), 'th-cfg-')), 'tracehouse.yaml');
  writeFileSync(file, text);
  return file;
};

describe('configuration', () => {
  it('runs on defaults with no file, no environment and no flags', () => {
    const c = loadConfig({ env: {} });
    expect(c.store.kind).toBe('embedded');
    expect(c.receivers.grpc.port).toBe(4317);
    expect(c.receivers.http.port).toBe(4318);
    expect(c.api.port).toBe(8080);
    expect(c.receivers.max_body_bytes).toBe(16 * 1024 * 1024);
    expect(Object.isFrozen(c.store)).toBe(true);
  });

  it('layers file < environment < flags', () => {
    const file = yamlFile('api:\n  port: 9000\nreceivers:\n  http:\n    port: 5000\nstore:\n  retention_days: 7\n');
    const c = loadConfig({ file, env: { TRACEHOUSE_API_PORT: '9001', TRACEHOUSE_HTTP_PORT: '5001' }, flags: { 'http-port': '5002' } });
    expect(c.store.retention_days).toBe(7);
    expect(c.api.port).toBe(9001);
    expect(c.receivers.http.port).toBe(5002);
  });

  it('names the setting and what is allowed when a value is invalid', () => {
    expect(() => loadConfig({ env: { TRACEHOUSE_STORE: 'postgres' } })).toThrow(/store\.kind: .*"embedded"\|"clickhouse"/);
    expect(() => loadConfig({ env: { TRACEHOUSE_API_PORT: 'eighty' } })).toThrow(/TRACEHOUSE_API_PORT: api\.port must be an integer/);
    expect(() => loadConfig({ env: {}, flags: { 'grpc-port': '70000' } })).toThrow(/receivers\.grpc\.port: .*65535/);
    expect(() => loadConfig({ env: {}, flags: { 'no-such-flag': '1' } })).toThrow(ConfigError);
  });

  it('reads the Kafka codec, partitioner and per-topic default projects', () => {
    const d = loadConfig({ env: {} }).bus.kafka;
    expect([d.compression, d.partitioner, d.default_project]).toEqual(['none', 'sarama_compat', { spans: 'default', logs: 'default' }]);
    const c = loadConfig({
      file: yamlFile('bus:\n  kafka:\n    default_project: { spans: fleet-a }\n'),
      env: { KAFKA_COMPRESSION: 'zstd' },
      flags: { 'kafka-partitioner': 'murmur2' },
    }).bus.kafka;
    expect([c.compression, c.partitioner, c.default_project]).toEqual(['zstd', 'murmur2', { spans: 'fleet-a', logs: 'default' }]);
    expect(() => loadConfig({ env: { KAFKA_COMPRESSION: 'brotli' } })).toThrow(/bus\.kafka\.compression/);
    expect(() => loadConfig({ env: { KAFKA_PARTITIONER: 'crc32' } })).toThrow(/bus\.kafka\.partitioner/);
    expect(() => loadConfig({ env: {}, overrides: { 'bus.kafka.default_project': { spans: 'not valid!' } } })).toThrow(/bus\.kafka\.default_project\.spans/);
  });

  it('rejects unknown keys in the file instead of ignoring a typo', () => {
    const file = yamlFile('store:\n  kind: embedded\n  pth: /tmp/x\n');
    expect(() => loadConfig({ file, env: {} })).toThrow(/store: Unrecognized key: "pth"/);
  });

  it('reports a missing file and invalid YAML clearly', () => {
    expect(() => loadConfig({ file: '/nonexistent/tracehouse.yaml', env: {} })).toThrow(/config file \/nonexistent\/tracehouse.yaml/);
    expect(() => loadConfig({ file: yamlFile('store: [unclosed'), env: {} })).toThrow(/invalid YAML/);
  });
});
