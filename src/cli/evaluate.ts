import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { resolveScorerModules } from '../config/load.js';
import { judgeConfigSchema, scorerConfigSchema } from '../evaluate/config.js';
import { Limiter } from '../evaluate/limiter.js';
import { scoreTrace } from '../evaluate/score-trace.js';
import { createScorers, type ConfiguredScorer } from '../evaluate/scorers/index.js';
import type { AssessmentRecord } from '../assessments/model.js';
import { traceRecordFromView, type TraceDetailView } from '../api/views.js';
import { retry, RetryGaveUp } from '../component/retry.js';
import { API_FLAGS, apiRequest, apiVerdict, projectFlag } from './api-client.js';
import type { CommandDef, ParsedArgs } from './command.js';
import { ProgressBar } from './progress.js';
import { formatTable } from './table.js';

const optionsSchema = z
  .object({
    filter: z.string().default(''),
    from: z.string().optional(),
    to: z.string().optional(),
    scorers: z.string({ error: 'is required: a YAML file with a `scorers:` list' }),
    project: z.string().optional(),
    concurrency: z.coerce.number().int().min(1).max(256),
    limit: z.coerce.number().int().min(1).optional(),
    'api-url': z.url(),
    key: z.string().optional(),
  })
  .strict();

/** Waits between tries of an assessment write: 0.5 s, then 1 s (with jitter). */
const WRITE_RETRY = { baseMs: 500, maxMs: 5_000 };

/** The scorers file: the same `scorers` list and `judge` settings as the evaluator section of the config. */
const scorersFileSchema = z.object({ scorers: z.array(scorerConfigSchema).min(1), judge: judgeConfigSchema.prefault({}) }).strict();

async function traceIds(api: string, project: string, filter: string, from?: string, to?: string, limit?: number): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const page = await apiRequest<{ traces: Array<{ trace_id: string }>; next_page_token: string | null }>(api, 'GET', '/api/v1/traces', {
      project,
      filter: filter || undefined,
      from,
      to,
      max_results: '1000',
      page_token: token,
    });
    ids.push(...page.traces.map((t) => t.trace_id));
    token = page.next_page_token ?? undefined;
  } while (token && (limit === undefined || ids.length < limit));
  return limit === undefined ? ids : ids.slice(0, limit);
}

const passed = (r: AssessmentRecord): boolean | null => {
  if (r.error) return null;
  const v = typeof r.value === 'string' ? r.value.toLowerCase() : r.value;
  if (v === true || v === 'yes') return true;
  if (v === false || v === 'no') return false;
  return null;
};

export const evaluateCommand: CommandDef = {
  name: 'evaluate',
  summary: 'Score the traces a search finds with the scorers of a file, through a running tracehouse API, and print a pass-rate table.',
  args: '',
  positionals: { min: 0, max: 0 },
  flags: [
    {
      name: 'scorers',
      type: 'string',
      value: 'FILE',
      required: true,
      help: "YAML file with a `scorers:` list and optional `judge:` settings (as the config's `evaluator`)",
    },
    projectFlag('project to score'),
    { name: 'filter', type: 'string', value: 'FILTER', help: 'which traces: the search grammar (all of them when not given)' },
    { name: 'from', type: 'string', value: 'T', help: 'earliest request time: epoch ms or ISO 8601' },
    { name: 'to', type: 'string', value: 'T', help: 'latest request time: epoch ms or ISO 8601' },
    { name: 'limit', type: 'string', value: 'N', help: 'score at most N traces' },
    { name: 'concurrency', type: 'string', value: 'N', default: '8', help: 'traces and scorer calls in flight at most, 1 to 256' },
    ...API_FLAGS,
  ],
  example: 'tracehouse evaluate --scorers examples/scorers.yaml --project sales-email',
  notes:
    'LLM judges call judge.base_url, else OPENAI_BASE_URL, else the OpenAI API, with judge.api_key or OPENAI_API_KEY.\n' +
    'Verdicts are written as the online evaluator writes them (same ids: a re-run replaces them).',
  run: runEvaluateCommand,
};

/**
 * `tracehouse evaluate`: scores historical traces found by a search (MLflow's
 * `mlflow.genai.evaluate(data=traces)`), through the API of a running tracehouse, writing the same
 * assessments as the online evaluator (same ids, so a re-run replaces rather than adds).
 */
export async function runEvaluateCommand({ values }: ParsedArgs): Promise<number> {
  const parsed = optionsSchema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    process.stderr.write(`tracehouse evaluate: --${issue?.path.join('.')}: ${issue?.message}\n`);
    return 2;
  }
  const o = parsed.data;
  const api = o['api-url'];

  let configured: ConfiguredScorer[];
  try {
    const file = resolve(o.scorers);
    const raw = (parseYaml(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
    resolveScorerModules(raw, dirname(file));
    const cfg = scorersFileSchema.safeParse(raw);
    if (!cfg.success) {
      const lines = cfg.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
      process.stderr.write(`tracehouse evaluate: ${o.scorers}:\n${lines.join('\n')}\n`);
      return 2;
    }
    configured = await createScorers(cfg.data, dirname(file));
  } catch (err) {
    process.stderr.write(`tracehouse evaluate: ${(err as Error).message}\n`);
    return 2;
  }

  try {
    // Without --project: the key's own project (`default` when the API runs without keys).
    const project = o.project ?? (await apiRequest<{ project: string | null }>(api, 'GET', '/api/v1/auth/whoami')).project ?? 'default';
    const all = await traceIds(api, project, o.filter, o.from, o.to, o.limit);
    // A scorer's own filter narrows the search further; offline runs score every match (no sampling).
    const eligible = new Map<string, Set<string>>();
    for (const c of configured) {
      if (!c.filter) continue;
      const combined = o.filter ? `${o.filter} AND ${c.filter}` : c.filter;
      eligible.set(c.scorer.name, new Set(await traceIds(api, project, combined, o.from, o.to)));
    }
    process.stderr.write(`scoring ${all.length} trace(s) with ${configured.map((c) => c.scorer.name).join(', ')}\n`);

    const limiter = new Limiter(o.concurrency);
    const traceLimiter = new Limiter(o.concurrency);
    const bar = new ProgressBar(all.length, 'evaluate');
    const results: AssessmentRecord[] = [];
    const unsaved: string[] = [];
    let done = 0;
    await Promise.all(
      all.map((traceId) =>
        traceLimiter.run(async () => {
          const detail = await apiRequest<TraceDetailView>(api, 'GET', `/api/v1/traces/${traceId}`, { project });
          const scorers = configured.filter((c) => eligible.get(c.scorer.name)?.has(traceId) ?? true).map((c) => c.scorer);
          const records = await scoreTrace(project, traceRecordFromView(detail), scorers, limiter);
          for (const r of records) {
            const body = {
              name: r.name,
              kind: r.kind,
              value: r.value,
              rationale: r.rationale,
              source: { source_type: r.sourceType, source_id: r.sourceId },
              metadata: r.metadata,
              ...(r.error ? { error: r.error } : {}),
              ...(r.spanId ? { span_id: r.spanId } : {}),
            };
            // A verdict cost a judge call: retry a failed write a few times (unless the API refused it), then report it and go on.
            try {
              await retry(() => apiRequest(api, 'PUT', `/api/v1/traces/${traceId}/assessments/${r.assessmentId}`, { project }, body), {
                backoff: WRITE_RETRY,
                maxRetries: 2,
                maxRetryAfterMs: 30_000,
                classify: apiVerdict,
              });
              results.push(r);
            } catch (err) {
              const last = err instanceof RetryGaveUp ? err.error : err;
              unsaved.push(`${traceId} ${r.name}: ${(last as Error).message}`);
            }
          }
          bar.update(++done);
        }),
      ),
    );
    bar.finish(done);

    const rows = [['SCORER', 'ASSESSED', 'PASS', 'FAIL', 'PASS RATE', 'ERRORS']];
    for (const c of configured) {
      const mine = results.filter((r) => r.name === c.scorer.name);
      const verdicts = mine.map(passed);
      const pass = verdicts.filter((v) => v === true).length;
      const fail = verdicts.filter((v) => v === false).length;
      rows.push([
        c.scorer.name,
        String(mine.length),
        String(pass),
        String(fail),
        pass + fail ? `${((pass / (pass + fail)) * 100).toFixed(1)}%` : '-',
        String(mine.filter((r) => r.error).length),
      ]);
    }
    process.stdout.write(`${formatTable(rows)}\n`);
    if (unsaved.length) {
      process.stderr.write(`${unsaved.length} assessment(s) could not be saved:\n  ${unsaved.slice(0, 10).join('\n  ')}\n`);
      return 1;
    }
    return 0;
  } catch (err) {
    process.stderr.write(`\ntracehouse evaluate: ${(err as Error).message}\n`);
    return 1;
  }
}
