import kafkajs, { type ICustomPartitioner } from 'kafkajs';

const { Partitioners } = kafkajs;

/**
 * How a keyed message picks its partition (`bus.kafka.partitioner`). Every producer on a topic must agree,
 * or the spans of one trace reach different writers and evaluators:
 * - `sarama_compat`: the OpenTelemetry Collector's Kafka exporter default (`record_partitioner.sticky_key.hasher:
 *   sarama_compat`), Sarama's `NewHashPartitioner`: FNV-1a 32 of the key, as int32, modulo partitions, negated
 *   when negative.
 * - `murmur2`: the Java client's default, kafkajs' `DefaultPartitioner` (the Collector's `hasher: murmur2`):
 *   murmur2 of the key, its sign bit cleared, modulo partitions.
 */
export type PartitionerKind = 'sarama_compat' | 'murmur2';

/** FNV-1a, 32 bits, as Go's `hash/fnv.New32a`: unsigned. */
export function fnv1a32(data: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of data) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

/** The Java client's `Utils.murmur2` (seed 0x9747b28c): a signed 32-bit hash. */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  // The trailing bytes, as the Java original's falling-through switch folds them in.
  const tail = length & 3;
  if (tail === 3) h ^= data[whole + 2]! << 16;
  if (tail >= 2) h ^= data[whole + 1]! << 8;
  if (tail >= 1) h = Math.imul(h ^ data[whole]!, m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Sarama's default: `int32(fnv1a(key)) % n`, negated when negative (JavaScript's `%` keeps the dividend's sign, as Go's does). */
export function saramaCompatPartition(key: Uint8Array, partitions: number): number {
  const p = (fnv1a32(key) | 0) % partitions;
  return Math.abs(p); // also turns the -0 of a negative multiple into 0
}

/** The Java client's default: `toPositive(murmur2(key)) % n`. */
export function murmur2Partition(key: Uint8Array, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

const toBytes = (key: Buffer | string): Buffer => (typeof key === 'string' ? Buffer.from(key, 'utf8') : key);

/**
 * The kafkajs partitioner for a kind. Keyed messages (every bus message: its key is the hex trace id) are
 * hashed over all partitions, available or not, so the mapping never moves while a leader is away;
 * messages without a key and messages with an explicit partition are left to kafkajs' default.
 */
export function createPartitioner(kind: PartitionerKind): ICustomPartitioner {
  const hash = kind === 'murmur2' ? murmur2Partition : saramaCompatPartition;
  return () => {
    const fallback = Partitioners.DefaultPartitioner();
    return (args) => {
      const { message, partitionMetadata } = args;
      if (message.partition !== undefined && message.partition !== null) return message.partition;
      if (message.key === undefined || message.key === null || partitionMetadata.length === 0) return fallback(args);
      return hash(toBytes(message.key), partitionMetadata.length);
    };
  };
}
