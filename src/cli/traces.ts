import { parseArgs } from 'node:util';
import { z } from 'zod';
import { formatTable } from './table.js';
import { apiRequest, setApiKey } from './api-client.js';

const optionsSchema = z
  .object({
    from: z.string().optional(),
    to: z.string().optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(20),
    project: z.string().optional(),
    json: z.boolean().default(false),
    'api-url': z.url().default(process.env.TRACEHOUSE_API_URL ?? 'http://localhost:8080'),
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

/** `tracehouse traces "<filter>"`: searches through the API of a running tracehouse and prints a table. */
export async function runTracesCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      limit: { type: 'string' },
      project: { type: 'string' },
      json: { type: 'boolean' },
      'api-url': { type: 'string' },
      key: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const parsed = optionsSchema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    process.stderr.write(`tracehouse traces: --${issue?.path.join('.')}: ${issue?.message}\n`);
    return 2;
  }
  const o = parsed.data;
  setApiKey(o.key);
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
