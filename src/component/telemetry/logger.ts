import { pino, type Logger } from 'pino';
import { z } from 'zod';

export const logLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
export type LogLevel = z.infer<typeof logLevelSchema>;

/** Structured JSON logs on stderr, so stdout stays free for CLI output. */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'tracehouse' } }, pino.destination(2));
}
