import { z } from 'zod';
import type { Authenticator } from '../auth/keyring.js';
import { parseDuration, scopeSchema, type StoredKey } from '../auth/keys.js';
import { EVERY_PROJECT, type KeyStore } from '../auth/store.js';
import { PROJECT_RE, PROJECT_RULE } from '../model/project.js';
import { readJsonBody } from './body.js';
import { ApiError } from './errors.js';
import { parseWith, pathSegment, queryObject } from './params.js';
import { principalOf, type Route } from './server.js';

const iso = (ms: number): string | null => (ms ? new Date(ms).toISOString() : null);

/** A key as the API shows it: never its salt or hash. */
export function keyView(k: StoredKey): Record<string, unknown> {
  return {
    id: k.id,
    name: k.name,
    project: k.project,
    scopes: k.scopes,
    created: iso(k.createdMs),
    expires: iso(k.expiresMs),
    last_used: iso(k.lastUsedMs),
    revoked: iso(k.revokedMs),
  };
}

const createSchema = z
  .object({
    name: z.string().max(256).default(''),
    project: z.string().regex(PROJECT_RE, `must be ${PROJECT_RULE}`).optional(),
    scopes: z.array(scopeSchema).min(1).max(4),
    /** Like 90d, 12h, 30m; absent: never expires. */
    expires_in: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return 0;
        const ms = parseDuration(v);
        if (ms === null) {
          ctx.addIssue({ code: 'custom', message: 'must be like 90d, 12h or 30m' });
          return z.NEVER;
        }
        return ms;
      }),
  })
  .strict();
const keyIdSchema = z.string().regex(/^[0-9a-f]{16}$/, 'is not a key id');

/** Who am I, and key management (admin): list, create (the secret is in this one answer), revoke. */
export function keyRoutes(store: KeyStore, auth: Authenticator): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/api\/v1\/auth\/whoami$/,
      auth: 'key',
      handler: async (req) => {
        const p = principalOf(req);
        return { key_id: p.keyId, project: p.project, scopes: p.scopes };
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/keys$/,
      auth: 'admin',
      handler: async (_req, url) => {
        parseWith(z.object({ project: z.string().optional() }).strict(), queryObject(url.searchParams));
        return { keys: (await store.list()).map(keyView) };
      },
    },
    {
      method: 'POST',
      pattern: /^\/api\/v1\/keys$/,
      auth: 'admin',
      status: 201,
      handler: async (req) => {
        const input = parseWith(createSchema, await readJsonBody(req));
        const admin = input.scopes.includes('admin');
        if (!admin && input.project === undefined) throw new ApiError('INVALID_PARAMETER', 'project: a key belongs to one project', { parameter: 'project' });
        const { key, secret } = await store.create({
          name: input.name,
          project: admin ? EVERY_PROJECT : (input.project as string),
          scopes: [...new Set(input.scopes)],
          expiresMs: input.expires_in ? Date.now() + input.expires_in : 0,
        });
        await auth.reload();
        return { key: keyView(key), secret };
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/api\/v1\/keys\/([^/]+)$/,
      auth: 'admin',
      handler: async (_req, _url, m) => {
        const id = parseWith(keyIdSchema, pathSegment(m[1] as string, 'key_id'));
        const key = await store.revoke(id);
        if (!key) throw new ApiError('NOT_FOUND', `no key ${id}`);
        await auth.reload();
        return { key: keyView(key) };
      },
    },
  ];
}
