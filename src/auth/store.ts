import type { ClickHouseClient } from '@clickhouse/client';
import { hashSecret, newKeyId, newSalt, newSecret, type Scope, type StoredKey } from './keys.js';

/** Project column value of admin keys, which reach every project. */
export const EVERY_PROJECT = '*';

interface KeyRow {
  id: string;
  name: string;
  project: string;
  scopes: string[];
  salt: string;
  hash: string;
  created_ms: string | number;
  expires_ms: string | number;
  revoked_ms: string | number;
  last_used_ms: string | number | null;
}

export interface NewKey {
  name: string;
  project: string;
  scopes: Scope[];
  expiresMs: number;
}

/**
 * The `api_keys` and `api_key_usage` tables. Every change is an insert; reads fold the versions of a
 * key (latest fields, earliest revocation), so two processes never undo each other's revocation.
 */
export class KeyStore {
  constructor(
    private readonly writer: ClickHouseClient,
    private readonly reader: ClickHouseClient,
  ) {}

  async list(): Promise<StoredKey[]> {
    const rs = await this.reader.query({
      query: `SELECT k.*, u.last_used_ms AS last_used_ms FROM (
          SELECT id, argMax(name, version) AS name, argMax(project, version) AS project, argMax(scopes, version) AS scopes,
            argMax(salt, version) AS salt, argMax(hash, version) AS hash, min(created_ms) AS created_ms,
            argMax(expires_ms, version) AS expires_ms, minIf(revoked_ms, revoked_ms > 0) AS revoked_ms
          FROM api_keys GROUP BY id) AS k
        LEFT JOIN (SELECT id, max(last_used_ms) AS last_used_ms FROM api_key_usage GROUP BY id) AS u USING (id)
        ORDER BY created_ms, id`,
      format: 'JSONEachRow',
    });
    return (await rs.json<KeyRow>()).map((r) => ({
      id: r.id,
      name: r.name,
      project: r.project,
      scopes: r.scopes as Scope[],
      salt: r.salt,
      hash: r.hash,
      createdMs: Number(r.created_ms),
      expiresMs: Number(r.expires_ms),
      revokedMs: Number(r.revoked_ms),
      lastUsedMs: Number(r.last_used_ms ?? 0),
    }));
  }

  /** Stores a new key and returns it with its secret: the only time the secret exists outside the caller. */
  async create(k: NewKey, now = Date.now()): Promise<{ key: StoredKey; secret: string }> {
    const id = newKeyId();
    const secret = newSecret(id);
    const salt = newSalt();
    const key: StoredKey = { id, ...k, salt, hash: hashSecret(secret, salt), createdMs: now, revokedMs: 0, lastUsedMs: 0 };
    await this.insert(key, 1);
    return { key, secret };
  }

  /** Revokes `id`; false if there is no such key. Revoking twice keeps the first time. */
  async revoke(id: string, now = Date.now()): Promise<StoredKey | null> {
    const key = (await this.list()).find((k) => k.id === id);
    if (!key) return null;
    if (key.revokedMs) return key;
    const revoked = { ...key, revokedMs: now };
    await this.insert(revoked, now);
    return revoked;
  }

  async touch(used: ReadonlyMap<string, number>): Promise<void> {
    if (!used.size) return;
    await this.writer.insert({
      table: 'api_key_usage',
      values: [...used].map(([id, ms]) => ({ id, last_used_ms: ms })),
      format: 'JSONEachRow',
      // chDB keeps per-query settings for the session: never inherit another insert's dedup token.
      clickhouse_settings: { insert_deduplication_token: '' },
    });
  }

  private async insert(k: StoredKey, version: number): Promise<void> {
    await this.writer.insert({
      table: 'api_keys',
      values: [
        {
          id: k.id,
          version,
          name: k.name,
          project: k.project,
          scopes: k.scopes,
          salt: k.salt,
          hash: k.hash,
          created_ms: k.createdMs,
          expires_ms: k.expiresMs,
          revoked_ms: k.revokedMs,
        },
      ],
      format: 'JSONEachRow',
      // chDB keeps per-query settings for the session: never inherit another insert's dedup token.
      clickhouse_settings: { insert_deduplication_token: '' },
    });
  }
}
