import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * API keys: what a key may do (scopes), how its secret looks, and how it is checked. A key belongs to
 * one project; `admin` reaches every project and manages keys.
 */
export const SCOPES = ['ingest', 'read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];
export const scopeSchema = z.enum(SCOPES);

/** Why a request was refused; the label of `tracehouse_auth_failures_total`. */
export const AUTH_FAILURES = ['no_key', 'bad_key', 'revoked', 'expired', 'wrong_project', 'wrong_scope'] as const;
export type AuthFailureReason = (typeof AUTH_FAILURES)[number];

/** A key as the store keeps it: never the secret, only its salt and salted hash. */
export interface StoredKey {
  id: string;
  name: string;
  project: string;
  scopes: Scope[];
  salt: string;
  hash: string;
  createdMs: number;
  /** 0: never expires. */
  expiresMs: number;
  /** 0: not revoked. */
  revokedMs: number;
  /** 0: never used (as far as the store knows). */
  lastUsedMs: number;
}

/** Who a request authenticated as. `project` is null for admin keys (every project). */
export interface Principal {
  keyId: string;
  project: string | null;
  scopes: readonly Scope[];
}

/** The same principal as when authentication is off: everything is allowed. */
export const ANONYMOUS_ADMIN: Principal = { keyId: 'anonymous', project: null, scopes: ['admin'] };

export class AuthFailure extends Error {
  override name = 'AuthFailure';
  constructor(
    readonly reason: AuthFailureReason,
    message: string,
  ) {
    super(message);
  }

  /** 401 when the caller did not prove who it is, 403 when it did but may not do this. */
  get status(): 401 | 403 {
    return this.reason === 'wrong_project' || this.reason === 'wrong_scope' ? 403 : 401;
  }
}

/**
 * A secret is `thk_<id>_<43 base64url chars>`: the id (public, shown by `keys list`) finds the stored
 * hash in one lookup, and the 256 random bits make a fast salted SHA-256 enough (no password stretching
 * is needed for a secret nobody chose, and every request is checked).
 */
const SECRET_RE = /^thk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export function newKeyId(): string {
  return randomBytes(8).toString('hex');
}

export function newSecret(id: string): string {
  return `thk_${id}_${randomBytes(32).toString('base64url')}`;
}

/** The key id of a well-formed secret, else null. */
export function secretKeyId(secret: string): string | null {
  return SECRET_RE.exec(secret)?.[1] ?? null;
}

export function hashSecret(secret: string, salt: string): string {
  return createHash('sha256').update(salt).update('\u0000').update(secret).digest('hex');
}

export function newSalt(): string {
  return randomBytes(16).toString('hex');
}

/** Constant-time comparison of two hex digests of the same length. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** The secret of an `Authorization: Bearer <secret>` header or gRPC metadata value; undefined if none. */
export function bearerSecret(header: string | string[] | undefined): string | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (v === undefined || v === '') return undefined;
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(v);
  // A header that is not `Bearer <token>` is a bad key, not a missing one.
  return m ? (m[1] as string) : '\u0000malformed';
}

/** `90d`, `12h`, `30m` or a number of days → milliseconds. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+)\s*([dhm]?)$/.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2] === 'h' ? 3_600_000 : m[2] === 'm' ? 60_000 : 86_400_000;
  return n > 0 ? n * unit : null;
}

/** Whether the principal may act on `project` with `scope`; throws the refusal otherwise. */
export function authorize(p: Principal, scope: Scope, project: string): void {
  if (!p.scopes.includes(scope) && !p.scopes.includes('admin')) {
    throw new AuthFailure('wrong_scope', `this key does not have the "${scope}" scope`);
  }
  if (p.project !== null && p.project !== project) {
    // The same words whether or not the project exists.
    throw new AuthFailure('wrong_project', 'this key is not allowed on that project');
  }
}
