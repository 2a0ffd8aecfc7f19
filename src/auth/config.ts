import { z } from 'zod';

/**
 * `auth`: API keys, where they are checked, and ingest limits per project.
 * - `mode: auto` (default): keys are required as soon as any listener binds a non-loopback address or a
 *   bootstrap admin key is configured; a laptop with loopback listeners needs none.
 * - `required`: keys on every listener, loopback included.
 * - `unauthenticated`: no keys even on a network address, said explicitly; every start logs a warning.
 */
export const authConfigSchema = z
  .object({
    mode: z.enum(['auto', 'required', 'unauthenticated']).default('auto'),
    /** How often each process reloads keys from the store: a revoked key stops working within this (plus one reload). */
    refresh_ms: z.number().int().min(100).max(60_000).default(2000),
    /**
     * Check keys by asking this tracehouse API (its /api/v1/auth/whoami) instead of reading the store:
     * for a receiver that holds no store credentials. Answers are cached for `refresh_ms`.
     */
    keys_url: z.union([z.url(), z.literal('')]).default(''),
    /** An admin key that needs no store (containers: from TRACEHOUSE_BOOTSTRAP_ADMIN_KEY or its _FILE). */
    bootstrap_admin_key: z.union([z.string().min(16, 'must be at least 16 characters'), z.literal('')]).default(''),
    /** Host names the API accepts besides localhost/127.0.0.1/[::1] when it binds loopback (DNS rebinding guard). */
    allowed_hosts: z.array(z.string().min(1)).default([]),
    /** Browser origins allowed to call the API cross-origin (CORS); none by default. */
    cors_origins: z.array(z.string().min(1)).default([]),
    /** Per-project ingest limits (0: none): over them OTLP answers 429 + Retry-After / RESOURCE_EXHAUSTED. */
    limits: z
      .object({
        spans_per_second: z.number().int().min(0).default(0),
        bytes_per_second: z.number().int().min(0).default(0),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type AuthConfig = z.infer<typeof authConfigSchema>;

/** Whether `host` only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Whether keys are required, given the addresses this process listens on. */
export function keysRequired(cfg: Pick<AuthConfig, 'mode' | 'bootstrap_admin_key'>, listenHosts: readonly string[]): boolean {
  if (cfg.mode === 'required') return true;
  if (cfg.mode === 'unauthenticated') return false;
  return cfg.bootstrap_admin_key !== '' || listenHosts.some((h) => !isLoopback(h));
}
