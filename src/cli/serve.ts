/** The commands that run tracehouse itself: `start`, one role per process, and `migrate`. */
import { resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { loadConfig, SETTINGS } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createLogger } from '../component/telemetry/logger.js';
import { ROLES, type Role } from '../service/roles.js';
import type { Service } from '../service/service.js';
import type { CommandDef, FlagDef, ParsedArgs } from './command.js';

const CONFIG_FLAG: FlagDef = { name: 'config', type: 'string', value: 'FILE', env: 'TRACEHOUSE_CONFIG', help: 'YAML config file' };

/** Every setting of README "Configuration" as a flag, its default and environment variable in the help text. */
const DEFAULTS = loadConfig({ env: {} });
function defaultOf(path: string): string {
  let node: unknown = DEFAULTS;
  for (const key of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[key];
  if (node === undefined) return '';
  return Array.isArray(node) ? node.join(',') : String(node);
}
const SETTING_FLAGS: readonly FlagDef[] = SETTINGS.map((s) => {
  const d = defaultOf(s.path);
  return {
    name: s.flag,
    type: 'string',
    value: s.type === 'int' ? 'N' : s.type === 'bool' ? 'BOOL' : 'VALUE',
    help: `${s.help} (${d ? `default: ${d}; ` : ''}env ${s.env})`,
  };
});

function settingFlags(values: ParsedArgs['values']): Record<string, string> {
  const flags: Record<string, string> = {};
  for (const s of SETTINGS) {
    const v = values[s.flag];
    if (typeof v === 'string') flags[s.flag] = v;
  }
  return flags;
}

const configFrom = (values: ParsedArgs['values']): Readonly<Config> =>
  loadConfig({ file: typeof values.config === 'string' ? values.config : undefined, flags: settingFlags(values) });

/** A listen address as a person would type it: `0.0.0.0` and `::` mean this machine. */
const hostOf = (host: string): string => (host === '0.0.0.0' || host === '::' || host === '' ? 'localhost' : host.includes(':') ? `[${host}]` : host);

/**
 * What `start` prints once every listener is up (after the components' own "listening" log lines):
 * the first line as before (scripts and tests wait for `tracehouse … up:`), then where things are.
 */
export function banner(config: Readonly<Config>, app: Service, role: Role | undefined): string {
  const p = app.ports;
  const where = config.store.kind === 'embedded' ? `embedded store at ${config.store.path}` : `ClickHouse at ${config.store.url}`;
  const bus = config.bus.kind === 'kafka' ? `Kafka at ${config.bus.kafka.brokers.join(',')}` : 'inline bus';
  const parts = [
    p.grpc !== null ? `OTLP/gRPC :${p.grpc}` : '',
    p.http !== null ? `OTLP/HTTP :${p.http}` : '',
    p.api !== null ? `API :${p.api}` : '',
    p.telemetry !== null ? `health/metrics :${p.telemetry}` : '',
  ].filter(Boolean);
  const lines = [`tracehouse ${role ?? 'is'} up: ${parts.join('  ')}  (${app.store ? `${where}, ` : ''}${bus})`];
  const row = (label: string, text: string): void => {
    lines.push(`  ${label.padEnd(10)} ${text}`);
  };
  if (p.api !== null) {
    const base = `http://${hostOf(config.api.host)}:${p.api}`;
    row('UI', `${base}/`);
    row('API', `${base}/api/v1/traces?project=NAME  (MLflow clients: MLFLOW_TRACKING_URI=${base})`);
  }
  if (p.http !== null) row('OTLP/HTTP', `http://${hostOf(config.receivers.http.host)}:${p.http}  (POST /v1/traces, /v1/logs)`);
  if (p.grpc !== null) row('OTLP/gRPC', `http://${hostOf(config.receivers.grpc.host)}:${p.grpc}`);
  if (p.telemetry !== null) row('health', `http://${hostOf(config.telemetry.host)}:${p.telemetry}/readyz  (and /metrics)`);
  if (app.store) row('data', config.store.kind === 'embedded' ? resolve(config.store.path) : `${config.store.url} database ${config.store.database}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Writes out what pino holds, so the components' "listening" lines come before the banner. pino's own
 * `flush(cb)` only waits for the write in progress, not for lines buffered behind it; the destination's
 * `flushSync` writes them all.
 */
function flushLog(log: Logger): void {
  const stream = (log as unknown as Record<symbol, { flushSync?: () => void } | undefined>)[pino.symbols.streamSym];
  try {
    stream?.flushSync?.();
  } catch {
    // Not ready or nothing to write: the banner is still right, only the order of lines may differ.
  }
}

async function serve(values: ParsedArgs['values'], role: Role | undefined): Promise<number> {
  const config = configFrom(values);
  const log = createLogger(config.log_level);
  // Loaded here, not at the top: the client commands and --help need none of the stages.
  const { Service } = await import('../service/service.js');
  const app = await Service.start(config, log, role ? [role] : ROLES);
  flushLog(log);
  process.stderr.write(banner(config, app, role));
  await new Promise<void>((done) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'shutting down');
      done();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await app.shutdown();
  return 0;
}

export const startCommand: CommandDef = {
  name: 'start',
  summary: 'Run everything in one process: OTLP receivers (:4317 gRPC, :4318 HTTP), the store, the evaluator and the API (:8080).',
  args: '',
  positionals: { min: 0, max: 0 },
  flags: [CONFIG_FLAG],
  settings: SETTING_FLAGS,
  example: 'tracehouse start --data-dir ./.data/chdb --api-port 8080',
  notes: 'Settings layer YAML file < environment < flags. Stop with Ctrl-C or SIGTERM: it drains before it exits.',
  run: ({ values }) => serve(values, undefined),
};

const ROLE_SUMMARY: Record<Role, string> = {
  receiver: 'OTLP receivers that produce to Kafka (health and metrics on :8888).',
  writer: 'Kafka consumer that writes spans to the store (health and metrics on :8888).',
  evaluator: 'Kafka consumer that scores sampled traces and writes assessments (health and metrics on :8888).',
  api: 'The HTTP API (:8080) over the store.',
};

export const roleCommands: CommandDef[] = ROLES.map((role) => ({
  name: role,
  summary: `Run one role: ${ROLE_SUMMARY[role]} Needs the Kafka bus (--bus kafka or TRACEHOUSE_BUS=kafka).`,
  args: '',
  positionals: { min: 0, max: 0 },
  flags: [CONFIG_FLAG],
  settings: SETTING_FLAGS,
  example: `tracehouse ${role} --bus kafka --kafka-brokers localhost:9092${role === 'receiver' ? '' : ' --store clickhouse --clickhouse-url http://localhost:8123'}`,
  run: ({ values }) => serve(values, role),
}));

export const migrateCommand: CommandDef = {
  name: 'migrate',
  summary: 'Create or upgrade the schema and apply the retention, then exit (start does this too unless --migrate-on-start false).',
  args: '',
  positionals: { min: 0, max: 0 },
  flags: [CONFIG_FLAG],
  settings: SETTING_FLAGS,
  example: 'tracehouse migrate --store clickhouse --clickhouse-url http://localhost:8123',
  async run({ values }) {
    const config = configFrom(values);
    const { openStore } = await import('../exporters/clickhouse/client.js');
    const { applyRetention, migrate } = await import('../exporters/clickhouse/migrate.js');
    const store = await openStore(config.store);
    try {
      const r = await migrate(store.writer, config.store.cluster);
      const ttl = await applyRetention(store.writer, config.store.retention_days, config.store.cluster);
      process.stdout.write(
        `schema at version ${r.current}${r.applied.length ? ` (applied ${r.applied.join(', ')})` : ' (up to date)'}` +
          `${ttl.length ? `; retention set on ${ttl.join(', ')}` : ''}\n`,
      );
    } finally {
      await store.close();
    }
    return 0;
  },
};
