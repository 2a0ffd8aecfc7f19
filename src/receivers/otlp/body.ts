import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { gunzip, inflate, inflateRaw } from 'node:zlib';
import type { BudgetLease } from '../../component/budget.js';
import { PipelineError, pipelineError } from '../../component/errors.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);
const inflateRawAsync = promisify(inflateRaw);

export class UnsupportedEncodingError extends Error {
  override name = 'UnsupportedEncodingError';
}

export interface BodyLimits {
  /** Largest body, on the wire and decompressed. */
  maxBytes: number;
  /** Holds the bytes read so far against the memory budget; reading stops when it cannot grow. */
  lease: BudgetLease;
  /** The whole body must arrive within this. */
  timeoutMs: number;
}

/** The answer to a request the memory budget cannot hold: 503 + Retry-After (gRPC UNAVAILABLE). */
export const overBudget = (): PipelineError =>
  pipelineError('OVER_BUDGET', 'the server holds as much request data as its memory budget allows: retry later', { retryAfterSeconds: 1 });

/** Reads the wire bytes of a body, holding each against the lease as it arrives, within the timeout. */
function readRaw(req: IncomingMessage, { maxBytes, lease, timeoutMs }: BodyLimits): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: unknown, body?: Buffer): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      // Whatever else arrives is not read: the handler answers with Connection: close.
      if (err) {
        req.pause();
        reject(err);
      } else resolve(body as Buffer);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        finish(pipelineError('TOO_LARGE', `request body exceeds the limit of ${maxBytes} bytes`));
        return;
      }
      // A declared length was held up front; a chunked body grows its lease as it comes.
      if (size > lease.bytes && !lease.resize(size)) {
        finish(overBudget());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => finish(null, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    const onError = (err: Error): void => finish(err);
    const onAborted = (): void => finish(new Error('client aborted the request'));
    const timer = setTimeout(
      () => finish(pipelineError('BODY_TIMEOUT', `request body not received within ${timeoutMs} ms`, { retryAfterSeconds: 1 })),
      timeoutMs,
    );
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/**
 * Reads a request body, refusing it as too large as soon as the wire bytes pass the limit (without
 * buffering the rest), or as over budget as soon as the lease cannot hold it, then decompresses with the
 * same limit on the output, so a small gzip bomb is refused after producing at most the limit.
 */
export async function readBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const { maxBytes: limit, lease } = limits;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw pipelineError('TOO_LARGE', `request body of ${declared} bytes exceeds the limit of ${limit} bytes`);
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  if (!['identity', 'gzip', 'x-gzip', 'deflate', ''].includes(encoding)) {
    throw new UnsupportedEncodingError(`unsupported Content-Encoding "${encoding}": use gzip, deflate or none`);
  }
  // Refused before a byte is read when the declared length does not fit.
  if (Number.isFinite(declared) && declared > 0 && !lease.resize(declared)) throw overBudget();

  const raw = await readRaw(req, limits);
  if (encoding === 'identity' || encoding === '') return raw;
  let body: Buffer;
  try {
    if (encoding === 'deflate') {
      // "deflate" in HTTP means zlib-wrapped, but some clients send raw deflate: accept both.
      const zlibWrapped = raw.length >= 2 && ((raw[0] as number) & 0x0f) === 8 && ((raw[0] as number) * 256 + (raw[1] as number)) % 31 === 0;
      body = zlibWrapped ? await inflateAsync(raw, { maxOutputLength: limit }) : await inflateRawAsync(raw, { maxOutputLength: limit });
    } else body = await gunzipAsync(raw, { maxOutputLength: limit });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw pipelineError('TOO_LARGE', `decompressed request body exceeds the limit of ${limit} bytes`);
    }
    if (err instanceof PipelineError) throw err;
    throw pipelineError('INVALID_BODY', `cannot decompress ${encoding} body: ${(err as Error).message}`, { cause: err });
  }
  // The compressed bytes are garbage from here on; the decompressed ones are what the request holds.
  if (!lease.resize(body.length)) throw overBudget();
  return body;
}
