import { z } from 'zod';
import type { Json } from '../model/genai.js';
import { ASSESSMENT_KINDS, SOURCE_TYPES } from './model.js';

/** Largest JSON text of a value, rationale or metadata: assessments are judgements, not payload stores. */
export const MAX_VALUE_BYTES = 64 * 1024;
export const MAX_RATIONALE_CHARS = 64 * 1024;
const MAX_DEPTH = 16;

function depth(v: unknown, d = 0): number {
  if (d > MAX_DEPTH) return d;
  if (Array.isArray(v)) return Math.max(d, ...v.map((x) => depth(x, d + 1)));
  if (v !== null && typeof v === 'object') return Math.max(d, ...Object.values(v).map((x) => depth(x, d + 1)));
  return d;
}

const jsonValue: z.ZodType<Json> = z.lazy(() =>
  z.union([
    z.string(),
    z.number().refine(Number.isFinite, 'must be a finite number'),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);

const NOT_NULL = 'must not be null: send a bool, number, string or JSON object/array';

/** A value: bool, number, string or JSON (object/array), not nested too deeply nor too large. */
const boundedValue = jsonValue
  .refine((v) => depth(v) <= MAX_DEPTH, `must not nest deeper than ${MAX_DEPTH} levels`)
  .refine((v) => Buffer.byteLength(JSON.stringify(v)) <= MAX_VALUE_BYTES, `must be at most ${MAX_VALUE_BYTES} bytes as JSON`);
export const assessmentValue = boundedValue
  .refine((v) => v !== null, NOT_NULL)
  .refine((v) => depth(v) <= MAX_DEPTH, `must not nest deeper than ${MAX_DEPTH} levels`)
  .refine((v) => Buffer.byteLength(JSON.stringify(v)) <= MAX_VALUE_BYTES, `must be at most ${MAX_VALUE_BYTES} bytes as JSON`);

const name = z.string().trim().min(1, 'must not be empty').max(256, 'must be at most 256 characters');
const metadata = z.record(z.string().min(1).max(256), z.string().max(8192)).refine((m) => Object.keys(m).length <= 64, 'must have at most 64 keys');
const source = z
  .object({
    source_type: z.enum(SOURCE_TYPES, { error: `must be one of ${SOURCE_TYPES.join(', ')}` }),
    source_id: z.string().min(1).max(256).optional(),
  })
  .strict();

export const createAssessmentSchema = z
  .object({
    name,
    kind: z.enum(ASSESSMENT_KINDS, { error: `must be one of ${ASSESSMENT_KINDS.join(', ')}` }).default('feedback'),
    value: boundedValue,
    /** Why a scorer could not judge; the value is then null. */
    error: z.string().max(8192).optional(),
    rationale: z.string().max(MAX_RATIONALE_CHARS).default(''),
    source: source.optional(),
    metadata: metadata.default({}),
    span_id: z
      .string()
      .regex(/^[0-9a-f]{16}$/, 'must be 16 lower-case hex characters')
      .optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.value === null && !a.error) ctx.addIssue({ code: 'custom', path: ['value'], message: NOT_NULL });
  });
export type CreateAssessmentInput = z.infer<typeof createAssessmentSchema>;

export const patchAssessmentSchema = z
  .object({
    value: assessmentValue.optional(),
    rationale: z.string().max(MAX_RATIONALE_CHARS).optional(),
    metadata: metadata.optional(),
  })
  .strict()
  .refine((p) => p.value !== undefined || p.rationale !== undefined || p.metadata !== undefined, 'send at least one of value, rationale, metadata');

export const overrideAssessmentSchema = z
  .object({
    value: assessmentValue,
    rationale: z.string().max(MAX_RATIONALE_CHARS).default(''),
    source: source.optional(),
    metadata: metadata.default({}),
  })
  .strict();

/** MLflow's defaults: feedback comes from code, expectations from a person. */
export function defaultSource(kind: CreateAssessmentInput['kind']): { source_type: 'CODE' | 'HUMAN'; source_id: string } {
  return kind === 'expectation' ? { source_type: 'HUMAN', source_id: 'default' } : { source_type: 'CODE', source_id: 'default' };
}
