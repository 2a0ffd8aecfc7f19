import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configSchema, type Config } from './schema.js';
import { startupError } from '../component/errors.js';

/**
 * One table drives environment variables, CLI flags and the README's config reference, so the three
 * never disagree. Values from the environment and flags are strings; `type` says how to read them.
 */
export interface Setting {
  path: string;
  env: string;
  flag: string;
  type: 'string' | 'int' | 'bool' | 'list';
  help: string;
}

export const SETTINGS: readonly Setting[] = [
  { path: 'bus.kind', env: 'TRACEHOUSE_BUS', flag: 'bus', type: 'string', help: '`inline` (one process) or `kafka`' },
  { path: 'bus.kafka.brokers', env: 'KAFKA_BROKERS', flag: 'kafka-brokers', type: 'list', help: 'Kafka bootstrap brokers, comma-separated host:port' },
  {
    path: 'bus.kafka.sasl.mechanism',
    env: 'KAFKA_SASL_MECHANISM',
    flag: 'kafka-sasl-mechanism',
    type: 'string',
    help: 'Kafka SASL mechanism: plain, scram-sha-256 or scram-sha-512',
  },
  {
    path: 'bus.kafka.sasl.username',
    env: 'KAFKA_SASL_USERNAME',
    flag: 'kafka-sasl-username',
    type: 'string',
    help: 'Kafka SASL user (with bus.kafka.sasl.mechanism)',
  },
  { path: 'bus.kafka.sasl.password', env: 'KAFKA_SASL_PASSWORD', flag: 'kafka-sasl-password', type: 'string', help: 'Kafka SASL password' },
  { path: 'bus.kafka.ssl', env: 'KAFKA_SSL', flag: 'kafka-ssl', type: 'bool', help: 'TLS to the Kafka brokers' },
  {
    path: 'bus.kafka.compression',
    env: 'KAFKA_COMPRESSION',
    flag: 'kafka-compression',
    type: 'string',
    help: 'compression of produced messages: none, gzip, snappy, lz4 or zstd (all are read)',
  },
  {
    path: 'bus.kafka.partitioner',
    env: 'KAFKA_PARTITIONER',
    flag: 'kafka-partitioner',
    type: 'string',
    help: "partition hash of a trace id: sarama_compat (the Collector's default) or murmur2 (the Java client's)",
  },
  {
    path: 'bus.kafka.client',
    env: 'KAFKA_CLIENT',
    flag: 'kafka-client',
    type: 'string',
    help: "receivers' Kafka client: kafkajs, or librdkafka (needs the optional @confluentinc/kafka-javascript)",
  },
  { path: 'store.kind', env: 'TRACEHOUSE_STORE', flag: 'store', type: 'string', help: '`embedded` (chDB in-process) or `clickhouse` (a server)' },
  { path: 'store.path', env: 'TRACEHOUSE_DATA_DIR', flag: 'data-dir', type: 'string', help: 'chDB data directory (embedded store)' },
  { path: 'store.url', env: 'CLICKHOUSE_URL', flag: 'clickhouse-url', type: 'string', help: 'ClickHouse HTTP URL (clickhouse store)' },
  { path: 'store.username', env: 'CLICKHOUSE_USER', flag: 'clickhouse-user', type: 'string', help: 'ClickHouse user' },
  { path: 'store.password', env: 'CLICKHOUSE_PASSWORD', flag: 'clickhouse-password', type: 'string', help: 'ClickHouse password' },
  { path: 'store.database', env: 'CLICKHOUSE_DATABASE', flag: 'clickhouse-database', type: 'string', help: 'ClickHouse database (created if missing)' },
  {
    path: 'store.cluster',
    env: 'TRACEHOUSE_CLICKHOUSE_CLUSTER',
    flag: 'clickhouse-cluster',
    type: 'string',
    help: 'ClickHouse cluster for Replicated tables ON CLUSTER (empty: one server)',
  },
  {
    path: 'store.migrate_on_start',
    env: 'TRACEHOUSE_MIGRATE_ON_START',
    flag: 'migrate-on-start',
    type: 'bool',
    help: 'apply migrations at start-up (turn off when a migrate job does it)',
  },
  {
    path: 'store.retention_days',
    env: 'TRACEHOUSE_RETENTION_DAYS',
    flag: 'retention-days',
    type: 'int',
    help: 'days to keep spans, traces and events (0 = forever)',
  },
  {
    path: 'store.read_cache_bytes',
    env: 'TRACEHOUSE_READ_CACHE_BYTES',
    flag: 'read-cache-bytes',
    type: 'int',
    help: 'embedded store: decompressed blocks kept for reads (bytes, 0 = off)',
  },
  { path: 'receivers.grpc.enabled', env: 'TRACEHOUSE_GRPC_ENABLED', flag: 'grpc-enabled', type: 'bool', help: 'serve OTLP/gRPC' },
  { path: 'receivers.grpc.host', env: 'TRACEHOUSE_GRPC_HOST', flag: 'grpc-host', type: 'string', help: 'OTLP/gRPC listen address' },
  { path: 'receivers.grpc.port', env: 'TRACEHOUSE_GRPC_PORT', flag: 'grpc-port', type: 'int', help: 'OTLP/gRPC port' },
  { path: 'receivers.http.enabled', env: 'TRACEHOUSE_HTTP_ENABLED', flag: 'http-enabled', type: 'bool', help: 'serve OTLP/HTTP' },
  { path: 'receivers.http.host', env: 'TRACEHOUSE_HTTP_HOST', flag: 'http-host', type: 'string', help: 'OTLP/HTTP listen address' },
  { path: 'receivers.http.port', env: 'TRACEHOUSE_HTTP_PORT', flag: 'http-port', type: 'int', help: 'OTLP/HTTP port' },
  {
    path: 'receivers.max_body_bytes',
    env: 'TRACEHOUSE_MAX_BODY_BYTES',
    flag: 'max-body-bytes',
    type: 'int',
    help: 'largest OTLP request body, compressed or not (bytes)',
  },
  {
    path: 'receivers.memory_budget_bytes',
    env: 'TRACEHOUSE_MEMORY_BUDGET_BYTES',
    flag: 'memory-budget-bytes',
    type: 'int',
    help: 'bytes held for clients at most; over it new requests get 503 at once',
  },
  {
    path: 'receivers.max_concurrent_uploads',
    env: 'TRACEHOUSE_MAX_CONCURRENT_UPLOADS',
    flag: 'max-concurrent-uploads',
    type: 'int',
    help: 'OTLP/HTTP bodies read at once, at most',
  },
  {
    path: 'receivers.body_timeout_ms',
    env: 'TRACEHOUSE_BODY_TIMEOUT_MS',
    flag: 'body-timeout-ms',
    type: 'int',
    help: 'time to receive a whole OTLP/HTTP body (ms)',
  },
  { path: 'writer.batch_max_spans', env: 'TRACEHOUSE_BATCH_MAX_SPANS', flag: 'batch-max-spans', type: 'int', help: 'spans per write batch at most' },
  {
    path: 'writer.batch_max_wait_ms',
    env: 'TRACEHOUSE_BATCH_MAX_WAIT_MS',
    flag: 'batch-max-wait-ms',
    type: 'int',
    help: 'how long a batch waits for more spans (ms)',
  },
  {
    path: 'writer.batch_max_bytes',
    env: 'TRACEHOUSE_BATCH_MAX_BYTES',
    flag: 'batch-max-bytes',
    type: 'int',
    help: 'request bytes per merged write, and bytes per insert, at most',
  },
  { path: 'writer.preview_chars', env: 'TRACEHOUSE_PREVIEW_CHARS', flag: 'preview-chars', type: 'int', help: 'length of request/response previews' },
  {
    path: 'writer.ingest_report',
    env: 'TRACEHOUSE_INGEST_REPORT',
    flag: 'ingest-report',
    type: 'bool',
    help: 'count unmapped keys and incomplete LLM spans in /metrics',
  },
  { path: 'api.enabled', env: 'TRACEHOUSE_API_ENABLED', flag: 'api-enabled', type: 'bool', help: 'serve the search API' },
  { path: 'api.host', env: 'TRACEHOUSE_API_HOST', flag: 'api-host', type: 'string', help: 'API listen address' },
  { path: 'api.port', env: 'TRACEHOUSE_API_PORT', flag: 'api-port', type: 'int', help: 'API port' },
  {
    path: 'telemetry.host',
    env: 'TRACEHOUSE_TELEMETRY_HOST',
    flag: 'telemetry-host',
    type: 'string',
    help: 'health/metrics listen address of the receiver, writer and evaluator roles',
  },
  {
    path: 'telemetry.port',
    env: 'TRACEHOUSE_TELEMETRY_PORT',
    flag: 'telemetry-port',
    type: 'int',
    help: 'health/metrics port of the receiver, writer and evaluator roles',
  },
  {
    path: 'auth.mode',
    env: 'TRACEHOUSE_AUTH_MODE',
    flag: 'auth-mode',
    type: 'string',
    help: 'auto (keys when a listener is not loopback), required, or unauthenticated (warned at every start)',
  },
  {
    path: 'auth.bootstrap_admin_key',
    env: 'TRACEHOUSE_BOOTSTRAP_ADMIN_KEY',
    flag: 'bootstrap-admin-key',
    type: 'string',
    help: 'an admin API key that needs no store (containers); or a file named by TRACEHOUSE_BOOTSTRAP_ADMIN_KEY_FILE',
  },
  {
    path: 'auth.keys_url',
    env: 'TRACEHOUSE_AUTH_KEYS_URL',
    flag: 'auth-keys-url',
    type: 'string',
    help: 'check keys through this tracehouse API instead of the store (a receiver without store access)',
  },
  {
    path: 'auth.refresh_ms',
    env: 'TRACEHOUSE_AUTH_REFRESH_MS',
    flag: 'auth-refresh-ms',
    type: 'int',
    help: 'how often keys are reloaded: a revoked key stops working within this plus one reload (ms)',
  },
  {
    path: 'auth.allowed_hosts',
    env: 'TRACEHOUSE_ALLOWED_HOSTS',
    flag: 'allowed-hosts',
    type: 'list',
    help: 'Host names a loopback-bound API accepts besides localhost (DNS rebinding guard)',
  },
  { path: 'auth.cors_origins', env: 'TRACEHOUSE_CORS_ORIGINS', flag: 'cors-origins', type: 'list', help: 'browser origins allowed to call the API (CORS)' },
  {
    path: 'auth.limits.spans_per_second',
    env: 'TRACEHOUSE_LIMIT_SPANS_PER_SECOND',
    flag: 'limit-spans-per-second',
    type: 'int',
    help: 'OTLP spans (and log records) per second per project, 0 = no limit',
  },
  {
    path: 'auth.limits.bytes_per_second',
    env: 'TRACEHOUSE_LIMIT_BYTES_PER_SECOND',
    flag: 'limit-bytes-per-second',
    type: 'int',
    help: 'OTLP request bytes per second per project, 0 = no limit',
  },
  { path: 'tls.cert_file', env: 'TRACEHOUSE_TLS_CERT_FILE', flag: 'tls-cert-file', type: 'string', help: 'PEM certificate for the OTLP receivers and the API' },
  { path: 'tls.key_file', env: 'TRACEHOUSE_TLS_KEY_FILE', flag: 'tls-key-file', type: 'string', help: 'PEM private key of tls.cert_file' },
  { path: 'log_level', env: 'TRACEHOUSE_LOG_LEVEL', flag: 'log-level', type: 'string', help: 'fatal, error, warn, info, debug, trace or silent' },
];

export class ConfigError extends startupError('CONFIG_INVALID') {
  override name = 'ConfigError';
}

type Tree = Record<string, unknown>;

function setPath(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1] as string] = value;
}

function coerce(setting: Setting, raw: string, origin: string): unknown {
  if (setting.type === 'int') {
    if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${origin}: ${setting.path} must be an integer, got "${raw}"`);
    return Number(raw);
  }
  if (setting.type === 'list')
    return raw
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
  if (setting.type === 'bool') {
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    throw new ConfigError(`${origin}: ${setting.path} must be true or false, got "${raw}"`);
  }
  return raw;
}

export interface LoadOptions {
  /** YAML file path; TRACEHOUSE_CONFIG when not given; none when neither is set. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Flag values by flag name (without `--`). */
  flags?: Record<string, string>;
  /** Applied last, for embedding and tests. */
  overrides?: Record<string, unknown>;
}

/** Layers file < environment < flags < overrides onto the defaults and validates the result. */
export function loadConfig(opts: LoadOptions = {}): Readonly<Config> {
  const env = opts.env ?? process.env;
  const tree: Tree = {};
  const file = opts.file ?? env.TRACEHOUSE_CONFIG;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`config file ${file}: ${(err as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (err) {
      throw new ConfigError(`config file ${file}: invalid YAML: ${(err as Error).message}`);
    }
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${file}: must be a mapping`);
      Object.assign(tree, parsed);
      resolveScorerModules(tree, dirname(resolve(file)));
    }
  }
  for (const s of SETTINGS) {
    const raw = env[s.env];
    if (raw !== undefined && raw !== '') setPath(tree, s.path, coerce(s, raw, `environment variable ${s.env}`));
  }
  const known = new Map(SETTINGS.map((s) => [s.flag, s]));
  for (const [flag, raw] of Object.entries(opts.flags ?? {})) {
    const s = known.get(flag);
    if (!s) throw new ConfigError(`unknown option --${flag}`);
    setPath(tree, s.path, coerce(s, raw, `option --${flag}`));
  }
  for (const [path, value] of Object.entries(opts.overrides ?? {})) setPath(tree, path, value);

  const result = configSchema.safeParse(tree);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const path = issue.path.join('.') || '(root)';
      return `  ${path}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return deepFreeze(result.data);
}

/** Custom scorer modules are named relative to the file that names them, not to the working directory. */
export function resolveScorerModules(tree: Record<string, unknown>, baseDir: string): void {
  const evaluator = tree.evaluator as { scorers?: unknown } | undefined;
  const scorers = (evaluator?.scorers ?? tree.scorers) as unknown;
  if (!Array.isArray(scorers)) return;
  for (const s of scorers) {
    if (s && typeof s === 'object' && typeof (s as { module?: unknown }).module === 'string') {
      const m = (s as { module: string }).module;
      if (!isAbsolute(m)) (s as { module: string }).module = resolve(baseDir, m);
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
