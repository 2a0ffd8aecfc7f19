import { promisify } from 'node:util';
import { gzip, unzip } from 'node:zlib';
import { compress as zstdCompress, init as zstdInit } from '@bokuweb/zstd-wasm';
import { decompress as zstdDecompress } from 'fzstd';
import kafkajs, { type CompressionTypes as Compression } from 'kafkajs';
import lz4 from 'lz4js';
import xxh32 from 'lz4js/xxh32.js';
import snappy from 'snappyjs';

const { CompressionCodecs, CompressionTypes } = kafkajs;

/**
 * Every codec Kafka and the OpenTelemetry Collector use, registered with kafkajs when this module loads
 * (kafkajs itself reads only gzip). Pure JavaScript and WebAssembly, so nothing is compiled or downloaded
 * at install time:
 * - snappy: snappyjs; reads both raw blocks (franz-go, Sarama, kafkajs) and the xerial framing the Java
 *   client writes.
 * - lz4: the LZ4 frame format Kafka uses for record batches. lz4js reads frames; they are written here
 *   around its block compressor, since Kafka brokers refuse lz4js' own frames (dependent blocks).
 * - zstd: fzstd decompresses (any frame, also the streamed ones without a content size that the Java
 *   client writes); @bokuweb/zstd-wasm (the reference library in WebAssembly) compresses.
 *
 * Decompression never throws into kafkajs. A batch that fails to decompress would fail the whole fetch,
 * before the writer sees any message, and the consumer would crash on it forever; instead the batch is
 * replaced by as many empty records as it held, each with a `tracehouse-codec-error` header saying what
 * failed, at the batch's offsets. The writer dead-letters that offset range with the reason and moves on.
 */

export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** Header of the empty stand-in records of a batch that could not be decompressed: the reason. */
export const CODEC_ERROR_HEADER = 'tracehouse-codec-error';

/** What kafkajs asks of a codec (`CompressionCodecs[type]()`); compress gets an encoder holding the records. */
interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const ZSTD_LEVEL = 3; // zstd's own default, as the Java client and franz-go use
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16; // magic, version, compatible version

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** Snappy as Kafka clients write it: one raw block, or xerial frames (a header, then length-prefixed blocks). */
export function snappyDecompress(data: Buffer): Buffer {
  if (data.length < XERIAL_HEADER_BYTES || !data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) return asBuffer(snappy.uncompress(data));
  const blocks: Buffer[] = [];
  let at = XERIAL_HEADER_BYTES;
  while (at < data.length) {
    if (at + 4 > data.length) throw new Error('truncated xerial snappy block header');
    const size = data.readInt32BE(at);
    at += 4;
    if (size < 0 || at + size > data.length) throw new Error('truncated xerial snappy block');
    blocks.push(asBuffer(snappy.uncompress(data.subarray(at, at + size))));
    at += size;
  }
  return Buffer.concat(blocks);
}

/** Kafka's own LZ4 block size (the Java client's KafkaLZ4BlockOutputStream); brokers need independent blocks. */
const LZ4_BLOCK_BYTES = 64 * 1024;
const LZ4_HEADER = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0]); // magic; FLG: version 1, independent blocks; BD: 64 KB
LZ4_HEADER[6] = (xxh32.hash(0, LZ4_HEADER, 4, 2) >>> 8) & 0xff; // the descriptor checksum
const lz4Table = new Uint32Array(1 << 16);
const lz4Block = Buffer.alloc(lz4.compressBound(LZ4_BLOCK_BYTES));

/** An LZ4 frame as Kafka writes it: 64 KB independent blocks (each compressed on its own), no checksums. */
export function lz4Frame(data: Buffer): Buffer {
  const parts: Buffer[] = [LZ4_HEADER];
  for (let at = 0; at < data.length; at += LZ4_BLOCK_BYTES) {
    const n = Math.min(LZ4_BLOCK_BYTES, data.length - at);
    lz4Table.fill(0); // no match may reach into an earlier block
    const size = lz4.compressBlock(data, lz4Block, at, n, lz4Table);
    const len = Buffer.alloc(4);
    if (size === 0 || size >= n) {
      len.writeUInt32LE((0x80000000 | n) >>> 0); // stored uncompressed
      parts.push(len, data.subarray(at, at + n));
    } else {
      len.writeUInt32LE(size);
      parts.push(len, Buffer.from(lz4Block.subarray(0, size)));
    }
  }
  parts.push(Buffer.alloc(4)); // end mark
  return Buffer.concat(parts);
}

let zstdReady: Promise<void> | null = null;

const gzipAsync = promisify(gzip);
// unzip, as kafkajs' own codec: gzip and zlib streams alike.
const unzipAsync = promisify(unzip);

interface Implementation {
  type: Compression;
  compress: (b: Buffer) => Promise<Buffer>;
  decompress: (b: Buffer) => Promise<Buffer>;
}

/**
 * The implementation behind each registered codec, looked up on every call: tests replace one to produce
 * batches the way another client does, or to make one fail as a codec that cannot read a batch would.
 */
export const CODECS: Record<Exclude<CompressionName, 'none'>, Implementation> = {
  gzip: { type: CompressionTypes.GZIP, compress: (b) => gzipAsync(b), decompress: (b) => unzipAsync(b) },
  snappy: { type: CompressionTypes.Snappy, compress: async (b) => asBuffer(snappy.compress(b)), decompress: async (b) => snappyDecompress(b) },
  lz4: { type: CompressionTypes.LZ4, compress: async (b) => lz4Frame(b), decompress: async (b) => asBuffer(lz4.decompress(b)) },
  zstd: {
    type: CompressionTypes.ZSTD,
    compress: async (b) => {
      await (zstdReady ??= zstdInit());
      return asBuffer(zstdCompress(b, ZSTD_LEVEL));
    },
    decompress: async (b) => asBuffer(zstdDecompress(b)),
  },
};

/** The kafkajs compression type for a `bus.kafka.compression` setting. */
export function compressionType(name: CompressionName): Compression {
  return name === 'none' ? CompressionTypes.None : CODECS[name].type;
}

/** Compresses as a producer configured with `name` would (for tests and benchmarks). */
export function compress(name: Exclude<CompressionName, 'none'>, data: Buffer): Promise<Buffer> {
  return CODECS[name].compress(data);
}

export function decompress(name: Exclude<CompressionName, 'none'>, data: Buffer): Promise<Buffer> {
  return CODECS[name].decompress(data);
}

// --- a batch that cannot be decompressed -----------------------------------------------------------------

/**
 * Byte positions in a v2 record batch (magic 2), from its first byte: kafkajs hands a codec the records
 * part only, as a view into the fetch response, so the batch header sits right before it.
 */
const BATCH = { magic: 16, attributes: 21, lastOffsetDelta: 23, recordCount: 57, records: 61 } as const;

interface BatchHeader {
  firstOffset: bigint;
  lastOffsetDelta: number;
  count: number;
}

/** The header of the record batch whose records `view` is, or null when `view` is not such a thing. */
export function batchHeaderBefore(view: Buffer, type: Compression): BatchHeader | null {
  if (view.byteOffset < BATCH.records) return null;
  const head = Buffer.from(view.buffer, view.byteOffset - BATCH.records, BATCH.records);
  if (head.readInt8(BATCH.magic) !== 2 || (head.readInt16BE(BATCH.attributes) & 0x07) !== type) return null;
  const count = head.readInt32BE(BATCH.recordCount);
  const lastOffsetDelta = head.readInt32BE(BATCH.lastOffsetDelta);
  if (count <= 0 || lastOffsetDelta < count - 1) return null;
  return { firstOffset: head.readBigInt64BE(0), lastOffsetDelta, count };
}

function zigzag(n: number): number[] {
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** One v2 record with no key and no value, at `offsetDelta`, with one header. */
function emptyRecord(offsetDelta: number, headerKey: Buffer, headerValue: Buffer): Buffer {
  const body = Buffer.from([
    0, // attributes
    ...zigzag(0), // timestamp delta
    ...zigzag(offsetDelta),
    ...zigzag(-1), // key: null
    ...zigzag(-1), // value: null
    ...zigzag(1), // one header
    ...zigzag(headerKey.length),
    ...headerKey,
    ...zigzag(headerValue.length),
    ...headerValue,
  ]);
  return Buffer.concat([Buffer.from(zigzag(body.length)), body]);
}

/**
 * The stand-in for a batch of `header.count` records: empty records at offsets spread over the batch (the
 * last one at its last offset, so resolving it moves the partition past the whole batch).
 */
export function standInRecords(header: BatchHeader, reason: string): Buffer {
  const key = Buffer.from(CODEC_ERROR_HEADER);
  const value = Buffer.from(reason.slice(0, 900));
  const records: Buffer[] = [];
  for (let i = 0; i < header.count; i++) records.push(emptyRecord(i === header.count - 1 ? header.lastOffsetDelta : i, key, value));
  return Buffer.concat(records);
}

function tolerant(name: Exclude<CompressionName, 'none'>): () => Codec {
  const codec: Codec = {
    compress: (encoder) => CODECS[name].compress(encoder.buffer),
    async decompress(buffer) {
      try {
        return await CODECS[name].decompress(buffer);
      } catch (err) {
        const header = batchHeaderBefore(buffer, CODECS[name].type);
        // Not a v2 record batch (a legacy message set): nothing to stand in for, the fetch fails as before.
        if (!header) throw err;
        const last = header.firstOffset + BigInt(header.lastOffsetDelta);
        const reason = `the ${name} record batch at offsets ${header.firstOffset}-${last} (${header.count} records) cannot be decompressed: ${(err as Error).message}`;
        return standInRecords(header, reason);
      }
    },
  };
  return () => codec;
}

for (const name of Object.keys(CODECS) as Array<keyof typeof CODECS>) {
  (CompressionCodecs as unknown as Record<number, () => Codec>)[CODECS[name].type] = tolerant(name);
}
