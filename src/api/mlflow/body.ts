import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import { readBodyBytes } from '../body.js';
import { MlflowError } from './errors.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/** Largest body (after decompression) MLflow's routes read: a trace info or one OTLP span batch. */
export const MAX_MLFLOW_BODY_BYTES = 8 * 1024 * 1024;

/** The raw body, decompressed (the OTLP exporter gzips), refused once it passes the limit. */
export async function readRaw(req: IncomingMessage, limit = MAX_MLFLOW_BODY_BYTES): Promise<Buffer> {
  const raw = await readBodyBytes(req, limit, (message) => new MlflowError('INVALID_PARAMETER_VALUE', message));
  const encoding = (req.headers['content-encoding'] ?? '').toLowerCase().trim();
  try {
    if (encoding === 'gzip' || encoding === 'x-gzip') return await gunzipAsync(raw, { maxOutputLength: limit });
    if (encoding === 'deflate') return await inflateAsync(raw, { maxOutputLength: limit });
  } catch (err) {
    throw new MlflowError('INVALID_PARAMETER_VALUE', `cannot decompress the ${encoding} body: ${(err as Error).message}`);
  }
  if (encoding !== '' && encoding !== 'identity') throw new MlflowError('INVALID_PARAMETER_VALUE', `unsupported Content-Encoding "${encoding}"`);
  return raw;
}

/**
 * A JSON body as MLflow's client sends it (DELETE included); an empty body is `{}`. Only an object is
 * accepted: every MLflow request message is one.
 */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readRaw(req);
  const text = raw.toString('utf8').trim();
  if (text === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new MlflowError('MALFORMED_REQUEST', `the body is not valid JSON: ${(err as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new MlflowError('INVALID_PARAMETER_VALUE', 'the body must be a JSON object');
  return v as Record<string, unknown>;
}
