import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { Once, settleBy, type Component, type Deadline, type ReadyCheck } from '../component/component.js';
import type { Metrics } from '../component/telemetry/metrics.js';
import { AUTH_FAILURES, ANONYMOUS_ADMIN, AuthFailure, hashSecret, sameDigest, scopeSchema, secretKeyId, type Principal, type StoredKey } from './keys.js';
import { EVERY_PROJECT } from './store.js';
import { IngestLimiter, type IngestLimits } from './limits.js';

/** Where a process learns its keys: the store (`KeyStore`) or nothing (bootstrap key only). */
export interface KeySource {
  list(): Promise<StoredKey[]>;
  touch(used: ReadonlyMap<string, number>): Promise<void>;
}

/** Keys could not be checked (the store or the key API is unreachable, or too long ago): retry later. */
export class AuthUnavailable extends Error {
  override name = 'AuthUnavailable';
}

export interface AuthenticatorOptions {
  enabled: boolean;
  refreshMs: number;
  bootstrapAdminKey: string;
  limits: IngestLimits;
  allowedHosts: readonly string[];
  corsOrigins: readonly string[];
  /** Verify through this API's /api/v1/auth/whoami instead of a key source. */
  keysUrl?: string;
  now?: () => number;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
/** A digest no secret hashes to, compared against when the key id is unknown, so both paths cost alike. */
const DUMMY = { salt: '00', hash: sha('tracehouse-no-such-key') };

const whoamiSchema = z.object({ key_id: z.string(), project: z.string().nullable(), scopes: z.array(scopeSchema) });
const refusalSchema = z.object({ error: z.object({ reason: z.enum(AUTH_FAILURES).optional(), message: z.string().optional() }) });

/**
 * The keys of one process: a cache of the store's keys reloaded every `refreshMs` (so a revocation
 * reaches every process within that, plus one reload), or, with `keysUrl`, answers of the key API cached
 * for as long. Also holds the ingest limiter and the API's host and origin allow-lists.
 */
export class Authenticator implements Component, ReadyCheck {
  readonly limiter: IngestLimiter;
  private keys = new Map<string, StoredKey>();
  private readonly used = new Map<string, number>();
  private readonly remote = new Map<string, { at: number; principal?: Principal; failure?: AuthFailure }>();
  private readonly bootstrapHash: string;
  private timer: NodeJS.Timeout | null = null;
  private loadedAt = 0;
  private readonly stopping = new Once();
  private readonly now: () => number;

  constructor(
    private readonly opts: AuthenticatorOptions,
    private readonly source: KeySource | null,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.now = opts.now ?? Date.now;
    this.bootstrapHash = opts.bootstrapAdminKey ? sha(opts.bootstrapAdminKey) : '';
    this.limiter = new IngestLimiter(opts.limits, this.now);
  }

  get enabled(): boolean {
    return this.opts.enabled;
  }

  get allowedHosts(): readonly string[] {
    return this.opts.allowedHosts;
  }

  get corsOrigins(): readonly string[] {
    return this.opts.corsOrigins;
  }

  async start(): Promise<void> {
    if (!this.opts.enabled || !this.source || this.opts.keysUrl) return;
    await this.reload();
    this.timer = setInterval(() => {
      this.reload().catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'auth: reloading keys failed; keeping the last ones'));
    }, this.opts.refreshMs);
    this.timer.unref();
  }

  /** Reloads the keys and records the last use of those seen since the previous reload. */
  async reload(): Promise<void> {
    if (!this.source) return;
    const keys = await this.source.list();
    this.keys = new Map(keys.map((k) => [k.id, k]));
    this.loadedAt = this.now();
    if (this.used.size) {
      const used = new Map(this.used);
      this.used.clear();
      await this.source.touch(used);
    }
  }

  async ready(): Promise<boolean> {
    return !this.opts.enabled || !this.source || Boolean(this.opts.keysUrl) || !this.stale();
  }

  /** Keys loaded longer ago than ten reloads (at least 30 s) are not trusted: a revocation may be missing. */
  private stale(): boolean {
    return this.now() - this.loadedAt > Math.max(30_000, 10 * this.opts.refreshMs);
  }

  /**
   * The principal of a secret (undefined: none was sent), or an AuthFailure (counted by reason, the
   * secret never logged). With authentication off everything is allowed.
   */
  async authenticate(secret: string | undefined, listener: string): Promise<Principal> {
    if (!this.opts.enabled) return ANONYMOUS_ADMIN;
    try {
      return await this.check(secret);
    } catch (err) {
      if (err instanceof AuthFailure) this.refused(err, listener);
      throw err;
    }
  }

  /** Counts a refusal decided elsewhere (wrong project or scope) by its reason. */
  refused(err: AuthFailure, listener: string): void {
    this.metrics.authFailures.inc({ listener, reason: err.reason });
  }

  private async check(secret: string | undefined): Promise<Principal> {
    if (secret === undefined) throw new AuthFailure('no_key', 'an API key is required: send "Authorization: Bearer <key>"');
    if (this.bootstrapHash && sameDigest(sha(secret), this.bootstrapHash)) return { keyId: 'bootstrap', project: null, scopes: ['admin'] };
    if (this.opts.keysUrl) return this.checkRemote(secret, this.opts.keysUrl);
    if (this.source && this.stale()) throw new AuthUnavailable('API keys could not be reloaded from the store recently; retry later');
    const id = secretKeyId(secret);
    const key = id === null ? undefined : this.keys.get(id);
    const ref = key ?? DUMMY;
    const match = sameDigest(hashSecret(secret, ref.salt), ref.hash);
    if (!key || !match) throw new AuthFailure('bad_key', 'the API key is not valid');
    const now = this.now();
    if (key.revokedMs) throw new AuthFailure('revoked', 'the API key was revoked');
    if (key.expiresMs && now >= key.expiresMs) throw new AuthFailure('expired', 'the API key has expired');
    this.used.set(key.id, now);
    return { keyId: key.id, project: key.project === EVERY_PROJECT || key.scopes.includes('admin') ? null : key.project, scopes: key.scopes };
  }

  private async checkRemote(secret: string, url: string): Promise<Principal> {
    const digest = sha(secret);
    const hit = this.remote.get(digest);
    const now = this.now();
    if (hit && now - hit.at < this.opts.refreshMs) {
      if (hit.failure) throw hit.failure;
      return hit.principal as Principal;
    }
    let res: Response;
    try {
      res = await fetch(new URL('/api/v1/auth/whoami', url), { headers: { authorization: `Bearer ${secret}` }, signal: AbortSignal.timeout(5000) });
    } catch (err) {
      throw new AuthUnavailable(`the key API at ${url} cannot be reached: ${(err as Error).message}`);
    }
    const body: unknown = await res.json().catch(() => null);
    if (this.remote.size >= 10_000) this.remote.clear();
    if (res.ok) {
      const w = whoamiSchema.safeParse(body);
      if (!w.success) throw new AuthUnavailable(`the key API at ${url} answered something else than a key`);
      // An API that runs without keys vouches for any string: never take that as a key.
      if (w.data.key_id === ANONYMOUS_ADMIN.keyId) throw new AuthUnavailable(`the key API at ${url} runs without keys (auth.mode): it cannot check them`);
      const principal: Principal = { keyId: w.data.key_id, project: w.data.project, scopes: w.data.scopes };
      this.remote.set(digest, { at: now, principal });
      return principal;
    }
    const r = refusalSchema.safeParse(body);
    if ((res.status === 401 || res.status === 403) && r.success) {
      const failure = new AuthFailure(r.data.error.reason ?? 'bad_key', r.data.error.message ?? 'the API key is not valid');
      this.remote.set(digest, { at: now, failure });
      throw failure;
    }
    throw new AuthUnavailable(`the key API at ${url} answered HTTP ${res.status}`);
  }

  shutdown(deadline: Deadline): Promise<void> {
    return this.stopping.run(async () => {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      // Last uses seen since the previous reload; best effort, the store closes after this.
      if (this.source && this.used.size) {
        const touched = this.source.touch(new Map(this.used)).catch(() => {});
        this.used.clear();
        await settleBy(touched, deadline);
      }
    });
  }
}
