import type { Attributes } from './otlp.js';

/** A project name: what a header, resource attribute or API parameter may say. */
export const PROJECT_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const PROJECT_RULE = '1-128 letters, digits, ".", "_", ":" or "-"';
export const DEFAULT_PROJECT = 'default';

/** Resource attribute naming a resource's project when no header does. */
export const PROJECT_ATTRIBUTE = 'tracehouse.project';

/**
 * A group's project: the request's (header) if any, else its resource attribute, else `fallback` (the
 * default project, or the one configured for a Kafka topic); null if the attribute is invalid.
 */
export function resolveProject(header: string | undefined, resource: Attributes, fallback: string = DEFAULT_PROJECT): string | null {
  if (header !== undefined) return header;
  const attr = resource[PROJECT_ATTRIBUTE];
  if (attr === undefined) return fallback;
  return typeof attr === 'string' && PROJECT_RE.test(attr) ? attr : null;
}
