import { parseArgs } from 'node:util';
import { z } from 'zod';
import { SOURCE_TYPES } from '../assessments/model.js';
import { apiRequest, setApiKey } from './api-client.js';

const optionsSchema = z
  .object({
    name: z.string().min(1, 'is required'),
    value: z.string({ error: 'is required' }),
    rationale: z.string().optional(),
    'source-id': z.string().optional(),
    'source-type': z.enum(SOURCE_TYPES).optional(),
    'span-id': z.string().optional(),
    project: z.string().optional(),
    'api-url': z.url().default(process.env.TRACEHOUSE_API_URL ?? 'http://localhost:8080'),
    key: z.string().optional(),
  })
  .strict();

/** `--value` is JSON when it parses (true, 0.8, {"a":1}), otherwise the text itself. */
function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/** `tracehouse feedback|expect <trace_id> --name … --value …`: records an assessment through the API. */
export async function runAssessCommand(kind: 'feedback' | 'expectation', argv: string[]): Promise<number> {
  const command = kind === 'feedback' ? 'feedback' : 'expect';
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      name: { type: 'string' },
      value: { type: 'string' },
      rationale: { type: 'string' },
      'source-id': { type: 'string' },
      'source-type': { type: 'string' },
      'span-id': { type: 'string' },
      project: { type: 'string' },
      'api-url': { type: 'string' },
      key: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const traceId = positionals[0];
  if (!traceId || positionals.length > 1) {
    process.stderr.write(`usage: tracehouse ${command} <trace_id> --name NAME --value VALUE [--rationale TEXT] [--source-id ID]\n`);
    return 2;
  }
  const parsed = optionsSchema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    process.stderr.write(`tracehouse ${command}: --${issue?.path.join('.')}: ${issue?.message}\n`);
    return 2;
  }
  const o = parsed.data;
  setApiKey(o.key);
  const body = {
    name: o.name,
    kind,
    value: parseValue(o.value),
    ...(o.rationale !== undefined ? { rationale: o.rationale } : {}),
    ...(o['span-id'] ? { span_id: o['span-id'] } : {}),
    // Whoever types this command is a person, so the source is HUMAN unless told otherwise.
    source: { source_type: o['source-type'] ?? 'HUMAN', ...(o['source-id'] ? { source_id: o['source-id'] } : {}) },
  };
  let answer: { assessment: { assessment_id: string } };
  try {
    answer = await apiRequest(o['api-url'], 'POST', `/api/v1/traces/${encodeURIComponent(traceId)}/assessments`, { project: o.project }, body);
  } catch (err) {
    process.stderr.write(`tracehouse ${command}: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`${answer.assessment.assessment_id}\n`);
  return 0;
}
