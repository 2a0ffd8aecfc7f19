import { describe, expect, it } from 'vitest';
import { parseJudgeReply } from '../../src/evaluate/judge/parse.js';
import { JudgeError } from '../../src/evaluate/judge/errors.js';

describe('judge reply parsing', () => {
  it('takes the strict JSON form', () => {
    expect(parseJudgeReply('{"rationale":"fine","result":"no"}')).toEqual({ result: 'no', rationale: 'fine' });
  });

  it('finds JSON in code fences or prose, with other spellings of the verdict', () => {
    expect(parseJudgeReply('```json\n{"result": "Yes", "rationale": "ok"}\n```')).toMatchObject({ result: 'yes', rationale: 'ok' });
    expect(parseJudgeReply('Here is my verdict: {"verdict": "pass", "reason": "it {really} does"} Hope that helps!')).toMatchObject({
      result: 'yes',
      rationale: 'it {really} does',
    });
    expect(parseJudgeReply('{"result": true}')).toMatchObject({ result: 'yes', rationale: '' });
    expect(parseJudgeReply('{"Result": "FAIL.", "Explanation": "x"}')).toMatchObject({ result: 'no', rationale: 'x' });
  });

  it('reads a leading or named yes/no from prose', () => {
    expect(parseJudgeReply('No. The email invents a discount.')).toMatchObject({ result: 'no', rationale: 'No. The email invents a discount.' });
    expect(parseJudgeReply('**Yes** — it answers the question.').result).toBe('yes');
    expect(parseJudgeReply('After reading it twice, my verdict: fail').result).toBe('no');
  });

  it('refuses empty, verdict-free and self-contradicting replies', () => {
    expect(() => parseJudgeReply('')).toThrow(/empty/);
    expect(() => parseJudgeReply('The email is about sales.')).toThrow(/no yes\/no verdict/);
    expect(() => parseJudgeReply('The answer is yes. Actually the answer is no.')).toThrow(/no yes\/no verdict/);
    expect(() => parseJudgeReply('{"result": "maybe"}')).toThrow(JudgeError);
  });

  it('reads per-item verdicts by index or in order, and leaves them out unless complete', () => {
    const indexed = '{"rationale":"r","verdicts":[{"index":2,"result":"no"},{"index":1,"result":"yes"}],"result":"yes"}';
    expect(parseJudgeReply(indexed, 2).items).toEqual(['yes', 'no']);
    expect(parseJudgeReply('{"rationale":"r","verdicts":["yes",false,"pass"],"result":"yes"}', 3).items).toEqual(['yes', 'no', 'yes']);
    expect(parseJudgeReply('{"rationale":"r","verdicts":[{"index":1,"result":"yes"}],"result":"yes"}', 2).items).toBeUndefined();
  });
});
