import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createPartitioner, fnv1a32, murmur2, murmur2Partition, saramaCompatPartition } from '../../src/bus/kafka/partitioner.js';

const { Partitioners } = kafkajs;
const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

/** FNV-1a 32 from its definition (offset basis 2166136261, prime 16777619, modulo 2^32), in BigInt. */
function fnvReference(data: Uint8Array): bigint {
  let h = 2166136261n;
  for (const b of data) h = ((h ^ BigInt(b)) * 16777619n) % 2n ** 32n;
  return h;
}

/** Sarama's HashPartitioner from its definition: int32(hash) % n with Go's truncated remainder, negated when negative. */
function saramaReference(data: Uint8Array, n: number): number {
  const u = fnvReference(data);
  const signed = u >= 2n ** 31n ? u - 2n ** 32n : u;
  const rem = signed - (signed / BigInt(n)) * BigInt(n); // BigInt division truncates toward zero, as Go's does
  return Number(rem < 0n ? -rem : rem);
}

const metadata = (n: number) => Array.from({ length: n }, (_, i) => ({ partitionErrorCode: 0, partitionId: i, leader: 1, replicas: [1], isr: [1] }));

describe('partitioners', () => {
  it('FNV-1a 32 gives the published test vectors', () => {
    expect(fnv1a32(bytes(''))).toBe(0x811c9dc5);
    expect(fnv1a32(bytes('a'))).toBe(0xe40c292c);
    expect(fnv1a32(bytes('foobar'))).toBe(0xbf9cf968);
  });

  it("murmur2 gives the Java client's test vectors (Kafka's UtilsTest)", () => {
    expect(murmur2(bytes('21'))).toBe(-973932308);
    expect(murmur2(bytes('foobar'))).toBe(-790332482);
    expect(murmur2(bytes('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(bytes('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(bytes('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(bytes('abc'))).toBe(479470107);
  });

  it("sarama_compat maps trace ids as the Collector's default hasher does, sign rule included", () => {
    // Worked from the definition: fnv1a("foobar") = 0xbf9cf968 = int32 -1080231576; -1080231576 % 7 = -4 → 4.
    // Java's rule (clear the sign bit) would give 0x3f9cf968 % 7 = 5: the two differ exactly here.
    expect(saramaCompatPartition(bytes('foobar'), 7)).toBe(4);
    expect((fnv1a32(bytes('foobar')) & 0x7fffffff) % 7).toBe(5);
    // Hex trace ids, as the exporter keys them with partition_traces_by_id (negative and positive int32 hashes).
    const vectors: Array<[string, number[]]> = [
      ['4bf92f3577b34da6a3ce929d0e0e4736', [0, 0, 5, 6]],
      ['0af7651916cd43dd8448eb211c80319c', [1, 1, 5, 7]],
      ['cd613e30d8f16adf91b7584a2265b1f5', [1, 4, 3, 4]],
    ];
    for (const [traceId, expected] of vectors) {
      expect(
        [3, 6, 7, 12].map((n) => saramaCompatPartition(bytes(traceId), n)),
        traceId,
      ).toEqual(expected);
    }
    for (let i = 0; i < 2000; i++) {
      const key = bytes(randomBytes(16).toString('hex'));
      const n = 1 + (i % 64);
      expect(saramaCompatPartition(key, n)).toBe(saramaReference(key, n));
    }
  });

  it("murmur2 maps keys as kafkajs' DefaultPartitioner (the Java client's) does", () => {
    const kafkajsDefault = Partitioners.DefaultPartitioner();
    for (let i = 0; i < 2000; i++) {
      const key = randomBytes(16).toString('hex');
      const n = 1 + (i % 64);
      expect(murmur2Partition(bytes(key), n)).toBe(kafkajsDefault({ topic: 't', partitionMetadata: metadata(n), message: { key, value: null } }));
    }
  });

  it('the kafkajs partitioner hashes keys over all partitions and leaves the rest to kafkajs', () => {
    const sarama = createPartitioner('sarama_compat')();
    const java = createPartitioner('murmur2')();
    const key = '4bf92f3577b34da6a3ce929d0e0e4736';
    // A partition without a leader still counts: the mapping must not move while a broker is away.
    const partitionMetadata = metadata(7).map((p) => (p.partitionId === 5 ? { ...p, leader: -1 } : p));
    expect(sarama({ topic: 't', partitionMetadata, message: { key, value: null } })).toBe(5);
    expect(sarama({ topic: 't', partitionMetadata, message: { key: bytes(key), value: null } })).toBe(5);
    expect(java({ topic: 't', partitionMetadata, message: { key, value: null } })).toBe(murmur2Partition(bytes(key), 7));
    expect(sarama({ topic: 't', partitionMetadata, message: { key, value: null, partition: 2 } })).toBe(2);
    for (let i = 0; i < 20; i++) {
      const p = sarama({ topic: 't', partitionMetadata, message: { key: null, value: null } });
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(7);
      expect(p).not.toBe(5);
    }
  });
});
