import { z } from 'zod';
import { formatTable } from './table.js';
import { API_FLAGS, apiRequest, projectFlag } from './api-client.js';
import type { CommandDef, ParsedArgs } from './command.js';

const optionsSchema = z
  .object({
    from: z.string().optional(),
    to: z.string().optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(20),
    project: z.string().optional(),
    json: z.boolean().default(false),
    ids: z.boolean().default(false),
    'api-url': z.url(),
    key: z.string().optional(),
  })
  .strict();

interface TraceSummary {
  trace_id: string;
  request_time: string;
  execution_time_ms: number;
  state: string;
  name: string;
  token_usage: { total_tokens: number };
  models: string[];
  request_preview: string;
}

const cut = (s: string, n: number): string => {
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
};

export const tracesCommand: CommandDef = {
  name: 'traces',
  summary: 'Search traces through a running tracehouse API and print them as a table (or the JSON answer).',
  args: '["<filter>"]',
  positionals: { min: 0, max: Number.POSITIVE_INFINITY },
  flags: [
    projectFlag('project to search'),
    { name: 'from', type: 'string', value: 'T', help: 'earliest request time: epoch ms or ISO 8601' },
    { name: 'to', type: 'string', value: 'T', help: 'latest request time: epoch ms or ISO 8601' },
    { name: 'limit', type: 'string', value: 'N', default: '20', help: 'traces to show, 1 to 1000' },
    { name: 'json', type: 'boolean', help: "print the API's JSON answer instead of a table" },
    { name: 'ids', type: 'boolean', help: 'print only the trace ids, one a line (for scripts)' },
    ...API_FLAGS,
  ],
  example: `tracehouse traces "span.type = 'RETRIEVER'" --project sales-email --limit 5`,
  notes: 'The filter is the search grammar of README "Query" (MLflow\'s search_traces); quote it as one argument.',
  run: runTracesCommand,
};

/** `tracehouse traces "<filter>"`: searches through the API of a running tracehouse and prints a table. */
export async function runTracesCommand({ values, positionals }: ParsedArgs): Promise<number> {
  const parsed = optionsSchema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    process.stderr.write(`tracehouse traces: --${issue?.path.join('.')}: ${issue?.message}\n`);
    return 2;
  }
  const o = parsed.data;
  let body: { traces: TraceSummary[] };
  try {
    body = await apiRequest(o['api-url'], 'GET', '/api/v1/traces', {
      filter: positionals.length ? positionals.join(' ') : undefined,
      from: o.from,
      to: o.to,
      max_results: String(o.limit),
      project: o.project,
    });
  } catch (err) {
    process.stderr.write(`tracehouse traces: ${(err as Error).message}\n`);
    return 1;
  }
  const traces = body.traces ?? [];
  if (o.json) {
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return 0;
  }
  if (o.ids) {
    process.stdout.write(traces.map((t) => `${t.trace_id}\n`).join(''));
    return 0;
  }
  const rows = [['TRACE ID', 'TIME', 'STATE', 'MS', 'TOKENS', 'NAME', 'MODELS', 'REQUEST']];
  for (const t of traces) {
    rows.push([
      t.trace_id,
      t.request_time.replace(/\.\d+Z$/, 'Z'),
      t.state,
      String(t.execution_time_ms),
      String(t.token_usage.total_tokens),
      cut(t.name, 28),
      cut(t.models.join(','), 24),
      cut(t.request_preview, 48),
    ]);
  }
  process.stdout.write(`${formatTable(rows)}\n${traces.length} trace(s)\n`);
  return 0;
}
