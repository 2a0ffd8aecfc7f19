import { describe, expect, it } from 'vitest';
import { KafkaSetupError } from '../../src/bus/kafka/client.js';
import { KafkaClientMissingError } from '../../src/bus/kafka/librdkafka-sender.js';
import { ApiClientError, apiVerdict } from '../../src/cli/api-client.js';
import { errorCode, formatError, pipelineError, StartupError, STARTUP_ERRORS } from '../../src/component/errors.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { StoreSetupError } from '../../src/exporters/clickhouse/client.js';
import { RoleConfigError } from '../../src/service/roles.js';
import { GraphError } from '../../src/service/graph.js';

describe('stable error codes', () => {
  it('give every start-up error class its code', () => {
    const cases: Array<[StartupError, keyof typeof STARTUP_ERRORS, string]> = [
      [new ConfigError('x'), 'CONFIG_INVALID', 'ConfigError'],
      [new RoleConfigError('x'), 'ROLE_CONFIG_INVALID', 'RoleConfigError'],
      [new StoreSetupError('x'), 'STORE_SETUP_FAILED', 'StoreSetupError'],
      [new KafkaSetupError('x'), 'KAFKA_UNREACHABLE', 'KafkaSetupError'],
      [new KafkaClientMissingError('x'), 'KAFKA_CLIENT_MISSING', 'KafkaClientMissingError'],
      [new GraphError('x'), 'PIPELINE_GRAPH_INVALID', 'GraphError'],
    ];
    for (const [err, code, name] of cases) {
      expect(err).toBeInstanceOf(StartupError);
      expect(err.code).toBe(code);
      expect(err.name).toBe(name);
    }
    expect(new Set(cases.map((c) => c[1]))).toEqual(new Set(Object.keys(STARTUP_ERRORS)));
  });

  it('are printed with the message', () => {
    expect(() => loadConfig({ env: {}, flags: { 'no-such-flag': '1' } })).toThrow(ConfigError);
    try {
      loadConfig({ env: {}, flags: { 'no-such-flag': '1' } });
    } catch (err) {
      expect(errorCode(err)).toBe('CONFIG_INVALID');
      expect(formatError(err)).toBe('[CONFIG_INVALID] unknown option --no-such-flag');
    }
    expect(formatError(pipelineError('BUS_TIMEOUT', 'Kafka did not acknowledge'))).toBe('[BUS_TIMEOUT] Kafka did not acknowledge');
    expect(formatError(new Error('plain'))).toBe('plain');
    expect(errorCode(new Error('plain'))).toBeUndefined();
  });

  it("carry the API's code into the CLI, and retry only what may succeed later", () => {
    const refused = new ApiClientError('`value` is required', 400, 'INVALID_PARAMETER');
    expect(refused.message).toBe('[INVALID_PARAMETER] `value` is required');
    expect(apiVerdict(refused)).toEqual({ retryable: false, retryAfterMs: undefined });
    expect(apiVerdict(new ApiClientError('store unavailable', 503, 'UNAVAILABLE', 2_000))).toEqual({ retryable: true, retryAfterMs: 2_000 });
    expect(apiVerdict(new ApiClientError('cannot reach the API'))).toMatchObject({ retryable: true });
    expect(apiVerdict(new ApiClientError('slow down', 429))).toMatchObject({ retryable: true });
    expect(apiVerdict(new TypeError('a bug'))).toEqual({ retryable: false });
  });
});
