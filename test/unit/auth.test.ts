import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { isLoopback, keysRequired } from '../../src/auth/config.js';
import { Authenticator, type KeySource } from '../../src/auth/keyring.js';
import {
  AuthFailure,
  authorize,
  bearerSecret,
  hashSecret,
  newKeyId,
  newSalt,
  newSecret,
  parseDuration,
  secretKeyId,
  type StoredKey,
} from '../../src/auth/keys.js';
import { IngestLimiter, RateLimited } from '../../src/auth/limits.js';
import { Metrics } from '../../src/component/telemetry/metrics.js';
import { retryInfoStatus } from '../../src/receivers/otlp/auth.js';

describe('key secrets', () => {
  it('carry their id, and only the right secret matches the salted hash', () => {
    const id = newKeyId();
    const secret = newSecret(id);
    expect(secretKeyId(secret)).toBe(id);
    expect(secretKeyId('thk_nothex_x')).toBeNull();
    const salt = newSalt();
    expect(hashSecret(secret, salt)).toBe(hashSecret(secret, salt));
    expect(hashSecret(secret, salt)).not.toBe(hashSecret(secret, newSalt()));
    expect(hashSecret(secret, salt)).not.toContain(secret);
  });

  it('reads Bearer headers, and anything else as a bad key rather than none', () => {
    expect(bearerSecret(undefined)).toBeUndefined();
    expect(bearerSecret('Bearer abc')).toBe('abc');
    expect(bearerSecret('bearer  abc ')).toBe('abc');
    expect(bearerSecret('Basic abc')).not.toBeUndefined();
    expect(bearerSecret('Basic abc')).not.toBe('abc');
  });

  it('parses expiry durations', () => {
    expect(parseDuration('90d')).toBe(90 * 86_400_000);
    expect(parseDuration('12h')).toBe(12 * 3_600_000);
    expect(parseDuration('30')).toBe(30 * 86_400_000);
    expect(parseDuration('0d')).toBeNull();
    expect(parseDuration('soon')).toBeNull();
  });

  it('authorizes by scope (admin implies all) and project', () => {
    expect(() => authorize({ keyId: 'k', project: 'a', scopes: ['read'] }, 'read', 'a')).not.toThrow();
    expect(() => authorize({ keyId: 'k', project: 'a', scopes: ['read'] }, 'write', 'a')).toThrow(expect.objectContaining({ reason: 'wrong_scope' }));
    expect(() => authorize({ keyId: 'k', project: 'a', scopes: ['read'] }, 'read', 'b')).toThrow(expect.objectContaining({ reason: 'wrong_project' }));
    expect(() => authorize({ keyId: 'k', project: null, scopes: ['admin'] }, 'write', 'anything')).not.toThrow();
  });
});

describe('when keys are required', () => {
  it('follows the listen addresses unless the mode says otherwise', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('localhost')).toBe(true);
    expect(isLoopback('0.0.0.0')).toBe(false);
    expect(isLoopback('10.1.2.3')).toBe(false);
    expect(keysRequired({ mode: 'auto', bootstrap_admin_key: '' }, ['127.0.0.1', '::1'])).toBe(false);
    expect(keysRequired({ mode: 'auto', bootstrap_admin_key: '' }, ['127.0.0.1', '0.0.0.0'])).toBe(true);
    expect(keysRequired({ mode: 'auto', bootstrap_admin_key: 'x'.repeat(16) }, ['127.0.0.1'])).toBe(true);
    expect(keysRequired({ mode: 'required', bootstrap_admin_key: '' }, ['127.0.0.1'])).toBe(true);
    expect(keysRequired({ mode: 'unauthenticated', bootstrap_admin_key: '' }, ['0.0.0.0'])).toBe(false);
  });
});

describe('the key cache', () => {
  const make = (keys: StoredKey[], now: () => number): Authenticator => {
    const source: KeySource = { list: async () => keys.map((k) => ({ ...k })), touch: async () => {} };
    const opts = {
      enabled: true,
      refreshMs: 1000,
      bootstrapAdminKey: '',
      limits: { spansPerSecond: 0, bytesPerSecond: 0 },
      allowedHosts: [],
      corsOrigins: [],
      now,
    };
    return new Authenticator(opts, source, new Metrics(), pino({ level: 'silent' }));
  };
  const key = (over: Partial<StoredKey> = {}): { key: StoredKey; secret: string } => {
    const id = newKeyId();
    const secret = newSecret(id);
    const salt = newSalt();
    return {
      secret,
      key: {
        id,
        name: '',
        project: 'p',
        scopes: ['read'],
        salt,
        hash: hashSecret(secret, salt),
        createdMs: 1,
        expiresMs: 0,
        revokedMs: 0,
        lastUsedMs: 0,
        ...over,
      },
    };
  };
  const reason = async (p: Promise<unknown>): Promise<string> =>
    p.then(
      () => 'ok',
      (e: unknown) => (e instanceof AuthFailure ? e.reason : String(e)),
    );

  it('tells missing, bad, revoked and expired keys apart, and sees a revocation at the next reload', async () => {
    let now = 1_000;
    const good = key();
    const expired = key({ expiresMs: 500 });
    const keys = [good.key, expired.key];
    const auth = make(keys, () => now);
    await auth.start();
    expect(await reason(auth.authenticate(undefined, 'api'))).toBe('no_key');
    const last = good.secret.slice(-1);
    expect(await reason(auth.authenticate(`${good.secret.slice(0, -1)}${last === 'A' ? 'B' : 'A'}`, 'api'))).toBe('bad_key');
    expect(await reason(auth.authenticate(expired.secret, 'api'))).toBe('expired');
    expect(await auth.authenticate(good.secret, 'api')).toEqual({ keyId: good.key.id, project: 'p', scopes: ['read'] });
    (keys[0] as StoredKey).revokedMs = 2_000;
    expect(await reason(auth.authenticate(good.secret, 'api'))).toBe('ok');
    await auth.reload();
    expect(await reason(auth.authenticate(good.secret, 'api'))).toBe('revoked');
    // Keys not reloaded for too long are not trusted.
    now += 60_000;
    expect(await reason(auth.authenticate(key().secret, 'api'))).toMatch(/AuthUnavailable|reloaded/);
    await auth.shutdown(Date.now() + 1000);
  });
});

describe('ingest limits', () => {
  it('refuse past the rate with the wait, per project, and recover as the clock moves', () => {
    let now = 0;
    const limiter = new IngestLimiter({ spansPerSecond: 10, bytesPerSecond: 0 }, () => now);
    limiter.admit('a', 25, 0);
    let refused: unknown;
    try {
      limiter.admit('a', 1, 0);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(RateLimited);
    expect((refused as RateLimited).retryAfterSeconds).toBe(2);
    expect(() => limiter.admit('b', 1, 0)).not.toThrow();
    now = 1_000;
    expect(() => limiter.admit('a', 1, 0)).toThrow(RateLimited);
    now = 1_600;
    expect(() => limiter.admit('a', 1, 0)).not.toThrow();
  });

  it('limits bytes as well', () => {
    let now = 0;
    const limiter = new IngestLimiter({ spansPerSecond: 0, bytesPerSecond: 1000 }, () => now);
    limiter.admit('a', 1, 3000);
    expect(() => limiter.admit('a', 1, 1)).toThrow(RateLimited);
    now = 2_500;
    expect(() => limiter.admit('a', 1, 1)).not.toThrow();
  });
});

describe('gRPC retry info', () => {
  it('encodes google.rpc.Status with a RetryInfo detail', () => {
    const buf = retryInfoStatus(8, 'slow down', 3);
    expect(buf[0]).toBe(0x08);
    expect(buf[1]).toBe(8);
    expect(buf.toString('latin1')).toContain('slow down');
    expect(buf.toString('latin1')).toContain('type.googleapis.com/google.rpc.RetryInfo');
    // RetryInfo{retry_delay: Duration{seconds: 3}} ends the message.
    expect([...buf.subarray(-4)]).toEqual([0x0a, 0x02, 0x08, 0x03]);
  });
});
