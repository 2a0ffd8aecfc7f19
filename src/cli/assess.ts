import { z } from 'zod';
import { SOURCE_TYPES } from '../assessments/model.js';
import { API_FLAGS, apiRequest, projectFlag } from './api-client.js';
import type { CommandDef, FlagDef, ParsedArgs } from './command.js';

const optionsSchema = z
  .object({
    name: z.string().min(1, 'is required'),
    value: z.string({ error: 'is required' }),
    rationale: z.string().optional(),
    'source-id': z.string().optional(),
    'source-type': z.enum(SOURCE_TYPES).optional(),
    'span-id': z.string().optional(),
    project: z.string().optional(),
    'api-url': z.url(),
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

const assessFlags = (what: string): FlagDef[] => [
  {
    name: 'name',
    type: 'string',
    value: 'NAME',
    required: true,
    help: `the ${what}'s name (what filters call \`${what === 'feedback' ? 'feedback' : 'expectation'}.NAME\`)`,
  },
  { name: 'value', type: 'string', value: 'VALUE', required: true, help: 'JSON when it parses (true, 0.8, ["a","b"]), else the text itself' },
  { name: 'rationale', type: 'string', value: 'TEXT', help: 'why' },
  { name: 'source-id', type: 'string', value: 'ID', help: 'who gave it (a user or reviewer id)' },
  { name: 'source-type', type: 'string', value: 'TYPE', default: 'HUMAN', help: `${SOURCE_TYPES.join(', ')}` },
  { name: 'span-id', type: 'string', value: 'ID', help: 'attach it to one span of the trace' },
  projectFlag("the trace's project"),
  ...API_FLAGS,
];

export const feedbackCommand: CommandDef = {
  name: 'feedback',
  summary: "Record feedback on a trace (a thumbs-up, a score, a reviewer's note) through a running tracehouse API; prints its assessment id.",
  args: '<trace_id>',
  positionals: { min: 1, max: 1 },
  flags: assessFlags('feedback'),
  example: 'tracehouse feedback 0af7651916cd43dd8448eb211c80319c --name user_satisfaction --value true --source-id user-42 --project sales-email',
  notes: 'Trace ids: `tracehouse traces --project P` lists them. Feedback may arrive before its trace.',
  run: (args) => runAssessCommand('feedback', args),
};

export const expectCommand: CommandDef = {
  name: 'expect',
  summary: 'Record a ground-truth expectation on a trace (what correctness scorers compare with) through a running tracehouse API.',
  args: '<trace_id>',
  positionals: { min: 1, max: 1 },
  flags: assessFlags('expectation'),
  example: 'tracehouse expect 0af7651916cd43dd8448eb211c80319c --name expected_facts --value \'["mentions the demo"]\' --project sales-email',
  notes: 'Trace ids: `tracehouse traces --project P` lists them.',
  run: (args) => runAssessCommand('expectation', args),
};

/** `tracehouse feedback|expect <trace_id> --name … --value …`: records an assessment through the API. */
export async function runAssessCommand(kind: 'feedback' | 'expectation', { values, positionals }: ParsedArgs): Promise<number> {
  const command = kind === 'feedback' ? 'feedback' : 'expect';
  const traceId = positionals[0] as string;
  const parsed = optionsSchema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    process.stderr.write(`tracehouse ${command}: --${issue?.path.join('.')}: ${issue?.message}\n`);
    return 2;
  }
  const o = parsed.data;
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
