import { z } from 'zod';
import { busConfigSchema } from '../bus/config.js';
import { storeConfigSchema, writerConfigSchema } from '../exporters/clickhouse/config.js';
import { otlpReceiverConfigSchema } from '../receivers/otlp/config.js';
import { apiConfigSchema } from '../api/config.js';
import { evaluatorConfigSchema } from '../evaluate/config.js';
import { telemetryConfigSchema } from '../component/telemetry/ops.js';
import { logLevelSchema } from '../component/telemetry/logger.js';
import { authConfigSchema } from '../auth/config.js';
import { tlsConfigSchema } from '../component/net.js';

/**
 * The whole configuration, composed of each component's own schema (which holds its fields, defaults and
 * rules). Every object is strict (unknown keys are errors, so a typo never silently falls back to a
 * default) and every field has a default, so an empty file is a working embedded setup.
 */
export const configSchema = z
  .object({
    bus: busConfigSchema.prefault({}),
    store: storeConfigSchema.prefault({}),
    receivers: otlpReceiverConfigSchema.prefault({}),
    writer: writerConfigSchema.prefault({}),
    api: apiConfigSchema.prefault({}),
    /** Health and metrics for roles that do not serve the API (receiver, writer, evaluator). */
    telemetry: telemetryConfigSchema.prefault({}),
    evaluator: evaluatorConfigSchema.prefault({}),
    /** API keys, host/origin checks and ingest limits (src/auth/). */
    auth: authConfigSchema.prefault({}),
    /** A certificate for the OTLP receivers and the API; none: plain TCP. */
    tls: tlsConfigSchema.prefault({}),
    log_level: logLevelSchema.default('info'),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
/** What a user may write: every field optional. */
export type ConfigInput = z.input<typeof configSchema>;
