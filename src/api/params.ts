import { z } from 'zod';
import { ApiError } from './errors.js';
import { parseTimeToNs } from '../query/time.js';
import { DEFAULT_PROJECT, PROJECT_RE, PROJECT_RULE } from '../model/project.js';

export const projectSchema = z.string().regex(PROJECT_RE, `must be ${PROJECT_RULE}`).default(DEFAULT_PROJECT);

export const timeParam = z.string().transform((v, ctx) => {
  const ns = parseTimeToNs(v);
  if (ns === null) {
    ctx.addIssue({ code: 'custom', message: 'must be epoch milliseconds or an ISO 8601 time' });
    return z.NEVER;
  }
  return ns;
});

export const searchQuerySchema = z
  .object({
    project: projectSchema,
    filter: z.string().max(10_000).default(''),
    from: timeParam.optional(),
    to: timeParam.optional(),
    order_by: z.array(z.string().max(200)).max(5).default([]),
    max_results: z.coerce.number().int().min(1).max(1000).default(100),
    page_token: z.string().max(500).optional(),
  })
  .strict();

/** The parameters of a search, from the query string or a JSON body. */
export type SearchParams = z.output<typeof searchQuerySchema>;

/** A time in a JSON body: epoch milliseconds as a number, or the same strings the query string takes. */
const bodyTime = z
  .union([
    z
      .number()
      .finite()
      .transform((v) => String(v)),
    z.string(),
  ])
  .pipe(timeParam);

/**
 * `POST /api/v1/traces/search`: the parameters of the GET search as a JSON body (as MLflow's client
 * searches), where a filter may be long enough for large IN lists. The body itself is bounded by
 * readJsonBody.
 */
export const searchBodySchema = z
  .object({
    project: projectSchema,
    filter: z.string().max(500_000).default(''),
    from: bodyTime.optional(),
    to: bodyTime.optional(),
    order_by: z
      .union([
        z.array(z.string().max(200)),
        z
          .string()
          .max(1000)
          .transform((v) =>
            v
              .split(',')
              .map((x) => x.trim())
              .filter(Boolean),
          ),
      ])
      .pipe(z.array(z.string().max(200)).max(5))
      .default([]),
    max_results: z.number().int().min(1).max(1000).default(100),
    page_token: z.string().max(500).optional(),
  })
  .strict();

export const traceQuerySchema = z
  .object({
    project: projectSchema,
    tree: z
      .enum(['true', 'false', '1', '0'])
      .default('false')
      .transform((v) => v === 'true' || v === '1'),
  })
  .strict();

export const traceIdSchema = z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lower-case hex characters');

/** URLSearchParams → object; repeated keys become arrays only for `order_by`. */
export function queryObject(params: URLSearchParams, arrayKeys: readonly string[] = []): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    out[key] = arrayKeys.includes(key)
      ? all
          .flatMap((v) => v.split(','))
          .map((v) => v.trim())
          .filter(Boolean)
      : (all[all.length - 1] as string);
  }
  return out;
}

/** A path segment as sent, percent-decoded; malformed encoding (`%zz`) is the caller's error, not ours. */
export function pathSegment(raw: string, name: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ApiError('INVALID_PARAMETER', `${name}: malformed percent-encoding in the path`, { parameter: name });
  }
}

export function parseWith<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'request';
    const message = issue?.code === 'unrecognized_keys' ? `unknown parameter(s): ${issue.keys.join(', ')}` : `${where}: ${issue?.message}`;
    throw new ApiError('INVALID_PARAMETER', message, { parameter: where });
  }
  return r.data;
}

/** Page tokens are opaque to clients: base64url of the next offset and the filter they belong to. */
export function encodePageToken(offset: number, filter: string): string {
  return Buffer.from(JSON.stringify({ o: offset, f: filter.length })).toString('base64url');
}

export function decodePageToken(token: string | undefined, filter: string): number {
  if (!token) return 0;
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown; f?: unknown };
    if (typeof v.o === 'number' && Number.isSafeInteger(v.o) && v.o >= 0 && v.f === filter.length) return v.o;
  } catch {
    // fall through
  }
  throw new ApiError('INVALID_PAGE_TOKEN', 'page_token is not valid for this search: pass the next_page_token of the previous page with the same filter');
}
