import type { ScorerConfig } from '../config.js';
import type { Json } from '../../model/genai.js';
import type { Scorer, ScorerInput, ScoreResult } from './types.js';
import { payloadTexts } from './text.js';

type CodeConfig = Extract<ScorerConfig, { type: 'latency' | 'token_budget' | 'error_free' | 'output_match' | 'valid_json' | 'tool_call' }>;

const pass = (ok: boolean, rationale: string): ScoreResult[] => [{ value: ok, rationale }];

function check(cfg: CodeConfig): (input: ScorerInput) => ScoreResult[] {
  switch (cfg.type) {
    case 'latency':
      return ({ trace }) => {
        const ms = Number(trace.info.executionDurationNs / 1_000_000n);
        return pass(ms <= cfg.max_ms, `took ${ms} ms; the limit is ${cfg.max_ms} ms`);
      };
    case 'token_budget':
      return ({ trace }) => {
        const used = trace.info.tokenUsage.total_tokens;
        return pass(used <= cfg.max_total_tokens, `used ${used} tokens; the budget is ${cfg.max_total_tokens}`);
      };
    case 'error_free':
      return ({ trace }) => {
        const failed = trace.spans.filter((s) => s.status.code === 'ERROR');
        return pass(
          failed.length === 0,
          failed.length === 0
            ? 'no span ended in error'
            : `${failed.length} span(s) ended in error: ${failed
                .slice(0, 3)
                .map((s) => `${s.name} (${s.status.message || 'no message'})`)
                .join(', ')}`,
        );
      };
    case 'output_match': {
      const re = cfg.pattern !== undefined ? new RegExp(cfg.pattern, 'u') : null;
      return ({ outputs }) => {
        // Any of the output's texts: its JSON, or a string inside it as written (unescaped).
        const found = payloadTexts(outputs).some((text) => (re ? re.test(text) : text.includes(cfg.contains as string)));
        const what = re ? `pattern /${cfg.pattern}/` : `text ${JSON.stringify(cfg.contains)}`;
        const ok = cfg.negate ? !found : found;
        return pass(ok, `the output ${found ? 'contains' : 'does not contain'} the ${what}`);
      };
    }
    case 'valid_json':
      return ({ outputs }) => {
        if (outputs === null) return pass(false, 'the trace has no output');
        if (typeof outputs !== 'string') return pass(true, 'the output is structured JSON');
        try {
          JSON.parse(outputs);
          return pass(true, 'the output parses as JSON');
        } catch (err) {
          return pass(false, `the output is not JSON: ${(err as Error).message}`);
        }
      };
    case 'tool_call':
      return ({ trace }) => {
        const calls = trace.spans.filter((s) => s.tool?.name === cfg.tool || (s.spanType === 'TOOL' && s.name === cfg.tool));
        const ok = cfg.called ? calls.length > 0 : calls.length === 0;
        return pass(ok, `tool ${JSON.stringify(cfg.tool)} was called ${calls.length} time(s); expected ${cfg.called ? 'at least once' : 'never'}`);
      };
  }
}

/** Built-in deterministic checks. Values are booleans (true = passes). */
export function createCodeScorer(cfg: CodeConfig): Scorer {
  const run = check(cfg);
  return {
    name: cfg.name ?? cfg.type,
    version: cfg.version,
    sourceType: 'CODE',
    sourceId: `tracehouse:${cfg.type}`,
    score: async (input) => run(input),
  };
}

/**
 * Why a returned value cannot be stored as an assessment value, or undefined when it can. The store and the
 * API hold JSON, and a feedback value may be null only with an error: `undefined` (a forgotten `return`) would
 * be written as no value at all, null would be refused by the API (failing `tracehouse evaluate`), and a
 * BigInt or a cycle would make every write of the trace's assessments throw.
 */
function valueProblem(v: unknown): string | undefined {
  if (v === undefined) return 'returned nothing (undefined): return a value or {value, rationale}';
  if (v === null) return 'returned null: return a value or {value, rationale}, or throw to record an error';
  if (typeof v === 'number' && !Number.isFinite(v)) return `returned ${v}, which is not a JSON value`;
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch (err) {
    return `returned a ${typeof v}, which is not a JSON value (${(err as Error).message})`;
  }
  if (text === undefined) return `returned a ${typeof v}, which is not a JSON value`;
  return undefined;
}

/** What a custom scorer module may return: a value, or a value with a rationale (and optional error). */
export function toResults(returned: unknown): ScoreResult[] {
  const one = (r: unknown): ScoreResult => {
    let value: unknown = r;
    let rationale = '';
    let error: string | undefined;
    if (r !== null && typeof r === 'object' && !Array.isArray(r) && 'value' in r) {
      const o = r as { value: unknown; rationale?: unknown; error?: unknown };
      value = o.value;
      rationale = typeof o.rationale === 'string' ? o.rationale : '';
      if (typeof o.error === 'string' && o.error !== '') error = o.error;
    }
    if (error !== undefined) return { value: null, rationale, error };
    const problem = valueProblem(value);
    if (problem !== undefined) return { value: null, rationale, error: `custom scorer ${problem}` };
    // Plain JSON from here on (a Date becomes its ISO text, as the API would show it).
    return { value: JSON.parse(JSON.stringify(value)) as Json, rationale };
  };
  return [one(returned)];
}
