import type { IncomingMessage, ServerResponse } from 'node:http';
import { isLoopback } from '../auth/config.js';
import { AuthUnavailable, type Authenticator } from '../auth/keyring.js';
import { ANONYMOUS_ADMIN, AuthFailure, authorize, bearerSecret, type Principal } from '../auth/keys.js';
import { DEFAULT_PROJECT } from '../model/project.js';
import { ApiError } from './errors.js';

/**
 * The auth rule of an API route:
 * - `public`: no key (reserved for what reveals no trace data);
 * - `key`: any valid key (who am I);
 * - `read` / `write` / `admin`: a key with that scope (admin implies all) on the project the request
 *   names with `?project=`; when it names none, the key's own project is filled in, so handlers read
 *   the project from the URL as before. A key of one project naming another gets 403, whether or not
 *   that project exists. Routes that name a project elsewhere (a body, a path) must check it with
 *   `authorize(principalOf(req), scope, project)` themselves.
 */
export type RouteAuth = 'public' | 'key' | 'read' | 'write' | 'admin';

const principals = new WeakMap<IncomingMessage, Principal>();

/** The principal a request authenticated as (anonymous admin when authentication is off). */
export function principalOf(req: IncomingMessage): Principal {
  return principals.get(req) ?? ANONYMOUS_ADMIN;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** The host name of a Host header, without its port. */
function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  return h.replace(/:\d+$/, '');
}

export interface ApiGuard {
  /** Answers a CORS preflight from an allowed origin; sets CORS headers for allowed origins. */
  preflight(req: IncomingMessage, res: ServerResponse): boolean;
  /** Authenticates and authorizes a request for a route, or throws the ApiError to answer. */
  check(req: IncomingMessage, url: URL, rule: RouteAuth): Promise<void>;
}

export function apiAuth(auth: Authenticator, bindHost: string): ApiGuard {
  const loopback = isLoopback(bindHost);
  const allowed = new Set(auth.allowedHosts.map((h) => h.toLowerCase()));
  const origins = new Set(auth.corsOrigins);
  return {
    preflight(req, res) {
      // DNS rebinding: a page on evil.example resolving to 127.0.0.1 still sends Host: evil.example.
      if (loopback) {
        const host = hostName(req.headers.host ?? '');
        if (!LOCAL_HOSTS.has(host) && !allowed.has(host)) {
          throw new ApiError('HOST_NOT_ALLOWED', 'this API only answers requests addressed to localhost (add other names to auth.allowed_hosts)');
        }
      }
      const origin = req.headers.origin;
      if (origin === undefined || !origins.has(origin)) return false;
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      if (req.method !== 'OPTIONS') return false;
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'GET, POST, PUT, PATCH, DELETE',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type',
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return true;
    },
    async check(req, url, rule) {
      if (rule === 'public') return;
      const principal = await auth.authenticate(bearerSecret(req.headers.authorization), 'api');
      principals.set(req, principal);
      if (rule === 'key') return;
      const named = url.searchParams.get('project');
      if (named === null && principal.project !== null) url.searchParams.set('project', principal.project);
      try {
        authorize(principal, rule, named ?? principal.project ?? DEFAULT_PROJECT);
      } catch (err) {
        if (err instanceof AuthFailure) auth.refused(err, 'api');
        throw err;
      }
    },
  };
}

/** Authentication failures as API errors (null: not one). */
export function apiAuthError(err: unknown): ApiError | null {
  if (err instanceof AuthFailure) {
    return new ApiError(err.status === 401 ? 'UNAUTHENTICATED' : 'PERMISSION_DENIED', err.message, { reason: err.reason });
  }
  if (err instanceof AuthUnavailable) return new ApiError('UNAVAILABLE', err.message);
  return null;
}

/**
 * For a route that names its project in a JSON body: fills in the key's project when the body names
 * none, and refuses another one (counted when `auth` is given), like `?project=` for the others.
 */
export function authorizeBodyProject(req: IncomingMessage, body: unknown, scope: 'read' | 'write', auth?: Authenticator): unknown {
  const p = principalOf(req);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const named = (body as { project?: unknown }).project;
  const out = named === undefined && p.project !== null ? { ...body, project: p.project } : body;
  const project = (out as { project?: unknown }).project;
  try {
    authorize(p, scope, typeof project === 'string' ? project : DEFAULT_PROJECT);
  } catch (err) {
    if (err instanceof AuthFailure) auth?.refused(err, 'api');
    throw err;
  }
  return out;
}
