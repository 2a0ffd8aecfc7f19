#!/usr/bin/env node
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, SETTINGS } from '../config/load.js';
import { createLogger } from '../component/telemetry/logger.js';
import { ROLES } from '../service/roles.js';
import { Service } from '../service/service.js';
import { openStore } from '../exporters/clickhouse/client.js';
import { formatError, StartupError } from '../component/errors.js';
import { applyRetention, migrate } from '../exporters/clickhouse/migrate.js';
import { runTracesCommand } from './traces.js';
import { runAssessCommand } from './assess.js';
import { runEvaluateCommand } from './evaluate.js';
import { runKeysCommand } from './keys.js';

const USAGE = `tracehouse — OTLP ingestion and search for GenAI traces

Usage:
  tracehouse start   [options]            run everything in one process (OTLP :4317/:4318, API :8080)
  tracehouse receiver|writer|evaluator|api [options]
                                          run one role (needs --bus kafka); health and metrics on :8888
  tracehouse migrate [options]            create or upgrade the ClickHouse schema, then exit
  tracehouse traces  ["<filter>"] [--from T] [--to T] [--limit N] [--project P] [--json] [--api-url URL]
                                          search traces through a running API
  tracehouse feedback <trace_id> --name N --value V [--rationale T] [--source-id ID] [--source-type T]
  tracehouse expect   <trace_id> --name N --value V [--rationale T] [--source-id ID]
                                          record feedback or a ground-truth expectation through the API
  tracehouse evaluate --scorers FILE [--filter F] [--from T] [--to T] [--project P] [--concurrency N] [--limit N]
                                          score historical traces found by a search, through the API
  tracehouse keys create|list|revoke ...  manage API keys (tracehouse keys --help)

Options (each also settable in the YAML file or the environment; see README "Configuration"):
  --config FILE                           YAML config file (env TRACEHOUSE_CONFIG)
${SETTINGS.map((s) => `  --${s.flag.padEnd(22)} ${s.help} (env ${s.env})`).join('\n')}
`;

const settingOptions: NonNullable<ParseArgsConfig['options']> = Object.fromEntries(SETTINGS.map((s) => [s.flag, { type: 'string' as const }]));

function settingFlags(values: Record<string, unknown>): Record<string, string> {
  const flags: Record<string, string> = {};
  for (const s of SETTINGS) {
    const v = values[s.flag];
    if (typeof v === 'string') flags[s.flag] = v;
  }
  return flags;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  if (command === 'traces') return runTracesCommand(rest);
  if (command === 'feedback') return runAssessCommand('feedback', rest);
  if (command === 'expect') return runAssessCommand('expectation', rest);
  if (command === 'evaluate') return runEvaluateCommand(rest);
  if (command === 'keys') return runKeysCommand(rest);

  const { values } = parseArgs({
    args: rest,
    options: { ...settingOptions, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const config = loadConfig({ file: values.config as string | undefined, flags: settingFlags(values) });
  const log = createLogger(config.log_level);

  if (command === 'migrate') {
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
  }

  const role = ROLES.find((r) => r === command);
  if (command === 'start' || role) {
    const app = await Service.start(config, log, role ? [role] : ROLES);
    const where = config.store.kind === 'embedded' ? `embedded store at ${config.store.path}` : `ClickHouse at ${config.store.url}`;
    const bus = config.bus.kind === 'kafka' ? `Kafka at ${config.bus.kafka.brokers.join(',')}` : 'inline bus';
    const parts = [
      app.ports.grpc !== null ? `OTLP/gRPC :${app.ports.grpc}` : '',
      app.ports.http !== null ? `OTLP/HTTP :${app.ports.http}` : '',
      app.ports.api !== null ? `API :${app.ports.api}` : '',
      app.ports.telemetry !== null ? `health/metrics :${app.ports.telemetry}` : '',
    ].filter(Boolean);
    process.stderr.write(`tracehouse ${role ?? 'is'} up: ${parts.join('  ')}  (${app.store ? `${where}, ` : ''}${bus})\n`);
    await new Promise<void>((resolve) => {
      const stop = (signal: string): void => {
        log.info({ signal }, 'shutting down');
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await app.shutdown();
    return 0;
  }

  process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Configuration and unreachable dependencies: the stable code and the message, no stack.
    if (err instanceof StartupError) {
      process.stderr.write(`tracehouse: ${formatError(err)}\n`);
    } else if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`tracehouse: ${(err as Error).message}\nRun "tracehouse --help" for the options.\n`);
    } else {
      process.stderr.write(`tracehouse: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.exitCode = 1;
  },
);
