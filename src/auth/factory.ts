import { readFileSync } from 'node:fs';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Factory } from '../component/component.js';
import type { Telemetry } from '../component/telemetry/index.js';
import { keysRequired, type AuthConfig } from './config.js';
import { Authenticator } from './keyring.js';
import { KeyStore } from './store.js';

export { Authenticator };

/** The admin key from the config, else from the file TRACEHOUSE_BOOTSTRAP_ADMIN_KEY_FILE names (a container secret). */
export function bootstrapAdminKey(cfg: AuthConfig, env: NodeJS.ProcessEnv = process.env): string {
  if (cfg.bootstrap_admin_key) return cfg.bootstrap_admin_key;
  const file = env.TRACEHOUSE_BOOTSTRAP_ADMIN_KEY_FILE;
  if (!file) return '';
  const key = readFileSync(file, 'utf8').trim();
  if (key.length < 16) throw new Error(`TRACEHOUSE_BOOTSTRAP_ADMIN_KEY_FILE ${file}: the key must be at least 16 characters`);
  return key;
}

/**
 * The process's key checker. Keys are on when `auth.mode` or a non-loopback listener says so (see
 * `keysRequired`); an explicitly unauthenticated deployment is warned about at every start.
 */
export const authFactory: Factory<
  AuthConfig,
  { store: { writer: ClickHouseClient; reader: ClickHouseClient } | undefined; listenHosts: readonly string[]; telemetry: Telemetry },
  Authenticator
> = {
  type: 'auth',
  create: (cfg, { store, listenHosts, telemetry }) => {
    const bootstrap = bootstrapAdminKey(cfg);
    const enabled = keysRequired({ mode: cfg.mode, bootstrap_admin_key: bootstrap }, listenHosts);
    if (cfg.mode === 'unauthenticated') {
      telemetry.log.warn({ listeners: listenHosts }, 'auth.mode is "unauthenticated": anyone who can reach these listeners can read and write every project');
    }
    return new Authenticator(
      {
        enabled,
        refreshMs: cfg.refresh_ms,
        bootstrapAdminKey: bootstrap,
        limits: { spansPerSecond: cfg.limits.spans_per_second, bytesPerSecond: cfg.limits.bytes_per_second },
        allowedHosts: cfg.allowed_hosts,
        corsOrigins: cfg.cors_origins,
        ...(cfg.keys_url ? { keysUrl: cfg.keys_url } : {}),
      },
      store ? new KeyStore(store.writer, store.reader) : null,
      telemetry.metrics,
      telemetry.log,
    );
  },
};
