import { pino, type Logger } from 'pino';
import type { Config } from '../../config/schema.js';

/** Structured JSON logs on stderr, so stdout stays free for CLI output. */
export function createLogger(level: Config['log_level']): Logger {
  return pino({ level, base: { service: 'tracehouse' } }, pino.destination(2));
}
