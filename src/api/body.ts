import type { IncomingMessage } from 'node:http';
import { ApiError } from './errors.js';

/** Largest JSON body the API reads. */
export const MAX_API_BODY_BYTES = 1024 * 1024;

/**
 * A request body's bytes, refused with `tooLarge(message)` as soon as the declared or the received length
 * passes `limit`, so an oversized body is never held whole. Each protocol gives its own error.
 */
export async function readBodyBytes(req: IncomingMessage, limit: number, tooLarge: (message: string) => Error): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(`body of ${declared} bytes is over the limit of ${limit}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(`body is over the limit of ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

export async function readJsonBody(req: IncomingMessage, limit = MAX_API_BODY_BYTES): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw new ApiError('INVALID_PARAMETER', 'send the body as application/json', { parameter: 'content-type' });
  const body = await readBodyBytes(req, limit, (message) => new ApiError('PAYLOAD_TOO_LARGE', message));
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    throw new ApiError('INVALID_PARAMETER', `body is not valid JSON: ${(err as Error).message}`, { parameter: 'body' });
  }
}
