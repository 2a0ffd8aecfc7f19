import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/component/telemetry/logger.js';
import { Service } from '../../src/service/service.js';

export interface TestApp {
  app: Service;
  dataDir: string;
  otlpHttp: string;
  otlpGrpc: string;
  api: string;
  stop(): Promise<void>;
}

/** Settings for a process of the test's own: loopback listeners on free ports, its own data directory, no logs. */
export function localOverrides(dataDir: string): Record<string, unknown> {
  return {
    'store.path': dataDir,
    'receivers.grpc.host': '127.0.0.1',
    'receivers.grpc.port': 0,
    'receivers.http.host': '127.0.0.1',
    'receivers.http.port': 0,
    'api.host': '127.0.0.1',
    'api.port': 0,
    'telemetry.host': '127.0.0.1',
    'telemetry.port': 0,
    log_level: 'silent',
  };
}

/**
 * Starts the whole product in this test process on free ports and a fresh chDB directory (or `dataDir`,
 * to restart on existing data). vitest's forks pool gives each test file its own process, as chDB needs.
 */
export async function startTestApp(opts: { dataDir?: string; overrides?: Record<string, unknown> } = {}): Promise<TestApp> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'tracehouse-test-'));
  const config = loadConfig({
    env: {},
    overrides: { ...localOverrides(dataDir), 'writer.batch_max_wait_ms': 20, ...opts.overrides },
  });
  const app = await Service.start(config, createLogger(config.log_level));
  return {
    app,
    dataDir,
    otlpHttp: `http://127.0.0.1:${app.ports.http}`,
    otlpGrpc: `http://127.0.0.1:${app.ports.grpc}`,
    api: `http://127.0.0.1:${app.ports.api}`,
    stop: () => app.shutdown(),
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export async function getJson<T = unknown>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
}
