/**
 * Turns a judge model's reply into a verdict. Structured output makes the strict path the usual one, but
 * OpenAI-compatible servers that ignore `response_format` (and older models) answer in prose, code fences or
 * with their own spelling of yes/no, so the fallbacks below accept what a person would read unambiguously.
 */
import { z } from 'zod';
import { JudgeError } from './errors.js';

export type Verdict = 'yes' | 'no';

export interface ParsedReply {
  result: Verdict;
  rationale: string;
  /** Per-item verdicts in item order, when they were asked for and the reply has exactly one per item. */
  items?: Verdict[];
}

const strictReply = z.object({ rationale: z.string(), result: z.enum(['yes', 'no']) });

const YES = new Set(['yes', 'y', 'true', 'pass', 'passed']);
const NO = new Set(['no', 'n', 'false', 'fail', 'failed']);
const RESULT_KEYS = ['result', 'verdict', 'answer', 'judgement', 'judgment', 'decision', 'value', 'rating'];
const RATIONALE_KEYS = ['rationale', 'reason', 'reasoning', 'explanation', 'justification'];
/** Longest rationale kept from a prose reply; the verdict is what matters, the rest is for a human reader. */
const MAX_PROSE_RATIONALE = 2_000;

/** A yes/no spelled any of the accepted ways, or undefined. */
export function toVerdict(v: unknown): Verdict | undefined {
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (v === 1) return 'yes';
  if (v === 0) return 'no';
  if (typeof v !== 'string') return undefined;
  const s = v
    .trim()
    .toLowerCase()
    .replace(/^[\s*_"'`]+|[\s*_"'`.!]+$/g, '');
  if (YES.has(s)) return 'yes';
  if (NO.has(s)) return 'no';
  return undefined;
}

/**
 * Parses a reply. `items` is the number of per-item verdicts asked for (0 for none).
 * Throws a non-retryable JudgeError when no verdict can be read.
 */
export function parseJudgeReply(text: string, items = 0): ParsedReply {
  const trimmed = text.trim();
  if (trimmed === '') throw new JudgeError('judge reply was empty', { retryable: false });

  for (const candidate of jsonCandidates(trimmed)) {
    const parsed = fromObject(candidate, items);
    if (parsed) return parsed;
  }
  const fromProse = proseVerdict(trimmed);
  if (fromProse) return { result: fromProse, rationale: trimmed.slice(0, MAX_PROSE_RATIONALE) };
  throw new JudgeError(`judge reply has no yes/no verdict: ${JSON.stringify(trimmed.slice(0, 200))}`, { retryable: false });
}

function fromObject(obj: Record<string, unknown>, items: number): ParsedReply | undefined {
  const strict = strictReply.safeParse(obj);
  let result: Verdict | undefined;
  let rationale: string;
  if (strict.success) {
    result = strict.data.result;
    rationale = strict.data.rationale;
  } else {
    const lower = new Map(Object.entries(obj).map(([k, v]) => [k.toLowerCase(), v]));
    for (const k of RESULT_KEYS) {
      result = toVerdict(lower.get(k));
      if (result) break;
    }
    if (!result) return undefined;
    const r = RATIONALE_KEYS.map((k) => lower.get(k)).find((v) => typeof v === 'string');
    rationale = typeof r === 'string' ? r : '';
  }
  const out: ParsedReply = { result, rationale };
  if (items > 0) {
    const list = itemVerdicts(obj.verdicts, items);
    if (list) out.items = list;
  }
  return out;
}

/** `[{index, result}]` (1-based index, any order) or a plain list in order; undefined unless every item has one. */
function itemVerdicts(v: unknown, n: number): Verdict[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: Array<Verdict | undefined> = new Array<Verdict | undefined>(n).fill(undefined);
  v.forEach((entry: unknown, pos) => {
    let index = pos + 1;
    let verdict: Verdict | undefined;
    if (entry !== null && typeof entry === 'object' && !Array.isArray(entry)) {
      const e = entry as Record<string, unknown>;
      if (typeof e.index === 'number' && Number.isInteger(e.index)) index = e.index;
      verdict = toVerdict(e.result ?? e.verdict ?? e.relevant);
    } else {
      verdict = toVerdict(entry);
    }
    if (verdict && index >= 1 && index <= n) out[index - 1] = verdict;
  });
  return out.every((x): x is Verdict => x !== undefined) ? out : undefined;
}

/** JSON objects found in the reply: the whole text, fenced blocks, then each balanced `{…}` in order. */
function* jsonCandidates(text: string): Generator<Record<string, unknown>> {
  const texts: string[] = [text];
  for (const m of text.matchAll(/```(?:json|JSON)?\s*\n?([\s\S]*?)```/g)) if (m[1]) texts.push(m[1].trim());
  for (let i = text.indexOf('{'), seen = 0; i >= 0 && seen < 20; i = text.indexOf('{', i + 1), seen++) {
    const end = balancedEnd(text, i);
    if (end > 0) texts.push(text.slice(i, end + 1));
  }
  for (const t of texts) {
    try {
      const v: unknown = JSON.parse(t);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) yield v as Record<string, unknown>;
    } catch {
      // not JSON; try the next candidate
    }
  }
}

/** Index of the `}` closing the `{` at `start`, skipping braces inside strings; -1 if unbalanced. */
function balancedEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

/**
 * A verdict from prose: the reply opens with it ("Yes, because…", "**No**"), or names it ("The answer is yes",
 * "Verdict: fail"). When the named verdicts disagree the reply is ambiguous and yields nothing.
 */
function proseVerdict(text: string): Verdict | undefined {
  const lead = /^[\s*_#>"'`]*(yes|no|pass|fail)\b/i.exec(text);
  if (lead?.[1]) return toVerdict(lead[1]);
  const named = [...text.matchAll(/\b(?:answer|result|verdict|judge?ment|decision)\b\s*(?:is|was|would be|[:=])?\s*[*_"'`]*\s*(yes|no|pass|fail)\b/gi)]
    .map((m) => toVerdict(m[1]))
    .filter((v): v is Verdict => v !== undefined);
  const distinct = new Set(named);
  return distinct.size === 1 ? named[0] : undefined;
}
