import { describe, expect, it } from 'vitest';
import { errorCode } from '../../src/component/errors.js';
import { KafkaClientMissingError, LIBRDKAFKA_PACKAGE, loadLibrdkafka } from '../../src/bus/kafka/librdkafka-sender.js';
import { loadConfig } from '../../src/config/load.js';

describe('the librdkafka client option', () => {
  it('is chosen with KAFKA_CLIENT or --kafka-client, kafkajs by default, and nothing else is accepted', () => {
    expect(loadConfig({ env: {} }).bus.kafka.client).toBe('kafkajs');
    expect(loadConfig({ env: { KAFKA_CLIENT: 'librdkafka' } }).bus.kafka.client).toBe('librdkafka');
    expect(loadConfig({ env: {}, flags: { 'kafka-client': 'librdkafka' } }).bus.kafka.client).toBe('librdkafka');
    expect(() => loadConfig({ env: { KAFKA_CLIENT: 'rdkafka' } })).toThrow(/bus\.kafka\.client: .*"kafkajs"\|"librdkafka"/);
  });

  it('loads the installed package (CI installs it: the Kafka tests run receivers on it)', () => {
    const mod = loadLibrdkafka();
    expect(typeof mod.KafkaJS.Kafka).toBe('function');
  });

  it('says how to install the package when it cannot be loaded', () => {
    let thrown: unknown;
    try {
      loadLibrdkafka('@confluentinc/no-such-package');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(KafkaClientMissingError);
    expect(errorCode(thrown)).toBe('KAFKA_CLIENT_MISSING');
    expect((thrown as Error).message).toContain(`npm install ${LIBRDKAFKA_PACKAGE}`);
    expect((thrown as Error).message).toContain('bus.kafka.client: kafkajs');
  });
});
