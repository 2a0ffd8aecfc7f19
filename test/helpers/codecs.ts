import snappy from 'snappyjs';

/**
 * Compressed records the way clients other than kafkajs write them, built by hand from the formats'
 * definitions: tests produce with these to check that what the Java client writes is read.
 */

/** Snappy in the xerial framing the Java client writes: a 16-byte header, then length-prefixed raw blocks. */
export function xerialSnappy(data: Buffer, blockBytes = 1000): Buffer {
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
  const blocks: Buffer[] = [];
  for (let at = 0; at < data.length; at += blockBytes) {
    const c = Buffer.from(snappy.compress(data.subarray(at, at + blockBytes)));
    const len = Buffer.alloc(4);
    len.writeInt32BE(c.length);
    blocks.push(len, c);
  }
  return Buffer.concat([header, ...blocks]);
}

/**
 * A zstd frame as a streaming compressor (the Java client's zstd-jni output stream) writes it: no content
 * size in the header, a window descriptor (8 MiB), and the data in several blocks (raw ones, here).
 */
export function streamedZstd(data: Buffer, blockBytes = 16 * 1024): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 13 << 3])];
  let at = 0;
  do {
    const part = data.subarray(at, at + blockBytes);
    at += blockBytes;
    const last = at >= data.length ? 1 : 0;
    const h = part.length * 8 + last; // block size << 3 | block type 0 (raw) << 1 | last block
    parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]), part);
  } while (at < data.length);
  return Buffer.concat(parts);
}
