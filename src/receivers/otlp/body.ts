import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { gunzip, inflate, inflateRaw } from 'node:zlib';
import { PipelineError, pipelineError } from '../../component/errors.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);
const inflateRawAsync = promisify(inflateRaw);

export class UnsupportedEncodingError extends Error {
  override name = 'UnsupportedEncodingError';
}

/**
 * Reads a request body, refusing it as too large as soon as the wire bytes pass `limit` (without
 * buffering the rest), then decompresses with the same limit on the output, so a small gzip bomb is
 * refused after producing at most `limit` bytes.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw pipelineError('TOO_LARGE', `request body of ${declared} bytes exceeds the limit of ${limit} bytes`);
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  if (!['identity', 'gzip', 'x-gzip', 'deflate', ''].includes(encoding)) {
    throw new UnsupportedEncodingError(`unsupported Content-Encoding "${encoding}": use gzip, deflate or none`);
  }

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw pipelineError('TOO_LARGE', `request body exceeds the limit of ${limit} bytes`);
    chunks.push(chunk);
  }
  const raw = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
  if (encoding === 'identity' || encoding === '') return raw;
  try {
    if (encoding === 'deflate') {
      // "deflate" in HTTP means zlib-wrapped, but some clients send raw deflate: accept both.
      const zlibWrapped = raw.length >= 2 && ((raw[0] as number) & 0x0f) === 8 && ((raw[0] as number) * 256 + (raw[1] as number)) % 31 === 0;
      return zlibWrapped ? await inflateAsync(raw, { maxOutputLength: limit }) : await inflateRawAsync(raw, { maxOutputLength: limit });
    }
    return await gunzipAsync(raw, { maxOutputLength: limit });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw pipelineError('TOO_LARGE', `decompressed request body exceeds the limit of ${limit} bytes`);
    }
    if (err instanceof PipelineError) throw err;
    throw pipelineError('INVALID_BODY', `cannot decompress ${encoding} body: ${(err as Error).message}`, { cause: err });
  }
}
