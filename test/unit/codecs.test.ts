import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import snappy from 'snappyjs';
import { afterEach, describe, expect, it } from 'vitest';
import { CODEC_ERROR_HEADER, CODECS, compress, compressionType, decompress, lz4Frame, type CompressionName } from '../../src/bus/kafka/codecs.js';
import { streamedZstd, xerialSnappy } from '../helpers/codecs.js';
import { protobufBody, syntheticTrace } from '../helpers/synthetic.js';

const { CompressionTypes } = kafkajs;

/**
 * kafkajs' own record batch encoder and decoder (internal modules): the codecs are checked where kafkajs
 * calls them, with the bytes it hands them.
 */
interface DecodedRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
}
const require = createRequire(import.meta.url);
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (opts: { compression: number; firstOffset: unknown; lastOffsetDelta: number; records: unknown[] }) => Promise<{ buffer: Buffer }>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (r: {
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, string>;
}) => unknown;
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (decoder: unknown) => Promise<{ records: DecodedRecord[] }>;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown;
const Long = require('kafkajs/src/utils/long.js') as { fromValue: (v: number | string) => unknown };

const NAMES: Array<Exclude<CompressionName, 'none'>> = ['gzip', 'snappy', 'lz4', 'zstd'];
const payload = (): Buffer => protobufBody(syntheticTrace(7).spans);

async function encodeBatch(compression: number, firstOffset: number, values: Buffer[]): Promise<Buffer> {
  const records = values.map((value, i) => Record({ offsetDelta: i, key: Buffer.from(`k${i}`), value, headers: { 'tracehouse-project': 'p' } }));
  return (await RecordBatch({ compression, firstOffset: Long.fromValue(firstOffset), lastOffsetDelta: values.length - 1, records })).buffer;
}

/** A v2 batch header (61 bytes) followed by `records`, as a broker sends it. */
function rawBatch(opts: { firstOffset: bigint; attributes: number; lastOffsetDelta: number; count: number; records: Buffer }): Buffer {
  const head = Buffer.alloc(61);
  head.writeBigInt64BE(opts.firstOffset, 0);
  head.writeInt32BE(49 + opts.records.length, 8);
  head.writeInt8(2, 16);
  head.writeInt16BE(opts.attributes, 21);
  head.writeInt32BE(opts.lastOffsetDelta, 23);
  head.writeBigInt64BE(-1n, 43);
  head.writeInt16BE(-1, 51);
  head.writeInt32BE(-1, 53);
  head.writeInt32BE(opts.count, 57);
  return Buffer.concat([head, opts.records]);
}

const saved = { ...CODECS.zstd };
afterEach(() => Object.assign(CODECS.zstd, saved));

describe('Kafka compression codecs', () => {
  it.each(NAMES)('%s: every codec is registered with kafkajs and round-trips a batch through its encoder and decoder', async (name) => {
    const values = [payload(), payload(), Buffer.alloc(0)];
    const batch = await encodeBatch(compressionType(name), 42, values);
    const { records } = await decodeBatch(new Decoder(batch));
    expect(records.map((r) => r.offset)).toEqual(['42', '43', '44']);
    expect(records.map((r) => r.value)).toEqual(values);
    expect(records[0]?.headers['tracehouse-project']?.toString()).toBe('p');
    const data = payload();
    expect(await decompress(name, await compress(name, data))).toEqual(data);
  });

  it('maps every setting to its kafkajs type', () => {
    expect(NAMES.map(compressionType)).toEqual([CompressionTypes.GZIP, CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD]);
    expect(compressionType('none')).toBe(CompressionTypes.None);
  });

  it("snappy reads the Java client's xerial framing as well as raw blocks", async () => {
    const data = Buffer.concat([payload(), payload(), payload()]);
    const framed = xerialSnappy(data, 1000);
    expect(framed.readInt32BE(16)).toBeLessThan(1000); // more than one block
    expect(await decompress('snappy', framed)).toEqual(data);
    expect(await decompress('snappy', Buffer.from(snappy.compress(data)))).toEqual(data);
  });

  it('lz4 writes frames as Kafka brokers take them: independent 64 KB blocks, a valid descriptor checksum', async () => {
    const data = Buffer.concat(Array.from({ length: 200 }, payload));
    expect(data.length).toBeGreaterThan(2 * 64 * 1024);
    const frame = lz4Frame(data);
    expect(frame.readUInt32LE(0)).toBe(0x184d2204);
    expect(frame[4]).toBe(0x60); // version 1, block independence, no checksums, no content size
    expect(frame[5]).toBe(0x40); // 64 KB blocks
    // Walk the blocks: none is over 64 KB, and each decompresses on its own.
    let at = 7;
    let blocks = 0;
    for (let size = frame.readUInt32LE(at); size !== 0; size = frame.readUInt32LE(at)) {
      expect(size & 0x7fffffff).toBeLessThanOrEqual(64 * 1024);
      at += 4 + (size & 0x7fffffff);
      blocks++;
    }
    expect(blocks).toBe(Math.ceil(data.length / (64 * 1024)));
    expect(await decompress('lz4', frame)).toEqual(data);
  });

  it('zstd reads streamed frames that carry no content size, in several blocks', async () => {
    const data = Buffer.concat(Array.from({ length: 64 }, payload));
    expect(data.length).toBeGreaterThan(3 * 4096);
    expect(await decompress('zstd', streamedZstd(data, 4096))).toEqual(data);
  });

  it('a batch that cannot be decompressed becomes empty stand-ins at its offsets, with the reason', async () => {
    const garbage = Buffer.from('this is not a zstd frame at all');
    const batch = rawBatch({ firstOffset: 1000n, attributes: CompressionTypes.ZSTD, lastOffsetDelta: 4, count: 5, records: garbage });
    const { records } = await decodeBatch(new Decoder(batch));
    expect(records.map((r) => r.offset)).toEqual(['1000', '1001', '1002', '1003', '1004']);
    for (const r of records) {
      expect(r.key).toBeNull();
      expect(r.value).toBeNull();
      expect(r.headers[CODEC_ERROR_HEADER]?.toString()).toMatch(/^the zstd record batch at offsets 1000-1004 \(5 records\) cannot be decompressed: .+/);
    }
  });

  it('the last stand-in sits at the batch’s last offset, so a compacted batch is skipped whole', async () => {
    CODECS.zstd.decompress = async () => {
      throw new Error('unsupported frame');
    };
    const batch = await encodeBatch(CompressionTypes.ZSTD, 7, [payload(), payload(), payload()]);
    // Rewrite the header as compaction leaves it: 3 records left of offsets 7..16.
    batch.writeInt32BE(9, 23);
    const { records } = await decodeBatch(new Decoder(batch));
    expect(records.map((r) => r.offset)).toEqual(['7', '8', '16']);
    expect(records[0]?.headers[CODEC_ERROR_HEADER]?.toString()).toBe(
      'the zstd record batch at offsets 7-16 (3 records) cannot be decompressed: unsupported frame',
    );
  });

  it('a failure outside a v2 record batch (a legacy message set) still fails', async () => {
    const codec = (kafkajs.CompressionCodecs as unknown as Record<number, () => { decompress(b: Buffer): Promise<Buffer> }>)[CompressionTypes.ZSTD];
    // Not a view into a batch: nothing before it to read a header from.
    await expect(codec?.().decompress(Buffer.alloc(16, 1))).rejects.toThrow();
  });
});
