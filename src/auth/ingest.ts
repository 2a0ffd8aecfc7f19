import type { Attributes } from '../model/otlp.js';
import { PROJECT_ATTRIBUTE } from '../model/project.js';
import { AuthFailure, type Principal } from './keys.js';
import type { IngestLimiter } from './limits.js';

/**
 * What an authenticated OTLP request may write: only its key's project (a resource naming another is
 * refused, whole request), within that project's ingest limits.
 */
export interface IngestGuard {
  /** Throws AuthFailure (wrong_project) if a resource names a project the key may not write. */
  checkResources(resources: ReadonlyArray<Attributes>): void;
  /** Takes what the request costs from each project's limits; throws RateLimited when over. */
  admit(items: ReadonlyArray<{ project: string; count: number }>, bytes: number): void;
}

export function ingestGuard(principal: Principal, limiter: IngestLimiter): IngestGuard {
  return {
    checkResources(resources) {
      if (principal.project === null) return;
      for (const attrs of resources) {
        const named = attrs[PROJECT_ATTRIBUTE];
        if (named !== undefined && named !== principal.project) throw new AuthFailure('wrong_project', 'this key is not allowed on that project');
      }
    },
    admit(items, bytes) {
      if (!limiter.enabled) return;
      const per = new Map<string, number>();
      for (const { project, count } of items) per.set(project, (per.get(project) ?? 0) + count);
      const total = [...per.values()].reduce((a, b) => a + b, 0) || 1;
      for (const [project, count] of per) limiter.admit(project, count, Math.ceil((bytes * count) / total));
    },
  };
}
