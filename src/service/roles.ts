import type { Config } from '../config/schema.js';
import { startupError } from '../component/errors.js';
import { evaluatorWanted } from '../evaluate/factory.js';
import { listenHosts, type NodeId } from './nodes.js';
import { keysRequired } from '../auth/config.js';

export const ROLES = ['receiver', 'writer', 'evaluator', 'api'] as const;
export type Role = (typeof ROLES)[number];

export class RoleConfigError extends startupError('ROLE_CONFIG_INVALID') {
  override name = 'RoleConfigError';
}

/** On the Kafka bus each role is a process of its own: the nodes each one runs. */
export const KAFKA_ROLES: Readonly<Record<Role, readonly NodeId[]>> = {
  receiver: ['kafkaProducer', 'otlpReceiver'],
  writer: ['store', 'storeWriter', 'kafkaWriter'],
  evaluator: ['store', 'evaluator', 'kafkaEvaluatorSource'],
  // The producer carries the spans MLflow's client exports to the API port (/v1/traces).
  api: ['store', 'kafkaProducer', 'api'],
};

/** On the inline bus everything runs in one process, the bus in memory between receiver and writer. */
export const INLINE_PROCESS: readonly NodeId[] = ['store', 'storeWriter', 'evaluator', 'inlineBus', 'api', 'otlpReceiver'];

/** Nodes a component's own config can switch off, and when it does. */
const ENABLED: Partial<Record<NodeId, (c: Readonly<Config>) => boolean>> = {
  evaluator: (c) => evaluatorWanted(c.evaluator),
  kafkaEvaluatorSource: (c) => evaluatorWanted(c.evaluator),
  api: (c) => c.api.enabled,
  otlpReceiver: (c) => c.receivers.grpc.enabled || c.receivers.http.enabled,
};

/**
 * The nodes one process runs for these roles and this config. Roles without the API still answer
 * health checks and scrapes, on the telemetry port.
 */
export function nodesFor(config: Readonly<Config>, roles: readonly Role[]): NodeId[] {
  let wanted: readonly NodeId[];
  if (config.bus.kind === 'inline') {
    if (roles.length !== ROLES.length || !ROLES.every((r) => roles.includes(r))) {
      throw new RoleConfigError(
        `the ${roles.join(', ')} role(s) alone need the Kafka bus (bus.kind: kafka, or --bus kafka); the inline bus runs everything in one process: use "tracehouse start"`,
      );
    }
    wanted = INLINE_PROCESS;
  } else {
    wanted = roles.flatMap((r) => KAFKA_ROLES[r]);
  }
  const nodes = [...new Set(wanted)].filter((id) => ENABLED[id]?.(config) ?? true);
  // Every process with a listener that carries data checks keys; a receiver reads them from the store
  // unless it asks an API for them (auth.keys_url).
  if (nodes.includes('api') || nodes.includes('otlpReceiver')) {
    if (!nodes.includes('store') && keysRequired(config.auth, listenHosts(config)) && !config.auth.keys_url) nodes.unshift('store');
    nodes.push('auth');
  }
  if (!nodes.includes('api')) nodes.push('telemetry');
  return nodes;
}
