import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isSampled, samplePoint, scorerAssessmentId } from '../../src/evaluate/sampling.js';

const randomTraceId = (): string => randomBytes(16).toString('hex');
const ids = Array.from({ length: 20_000 }, randomTraceId);

describe('trace sampling', () => {
  it('gives the same answer for the same trace every time (restarts and replicas agree)', () => {
    for (const id of ids.slice(0, 500)) {
      expect(samplePoint(id)).toBe(samplePoint(id));
      expect(isSampled(id, 0.3)).toBe(isSampled(id, 0.3));
    }
    // A fixed id has a fixed place across versions: a change of hash would silently reshuffle which
    // production traces every scorer sees.
    expect(samplePoint('f312d126c4b03e8ed1710fcd3ca55452')).toBeCloseTo(0.8401575775755816, 12);
    expect(isSampled('f312d126c4b03e8ed1710fcd3ca55452', 0.84)).toBe(false);
    expect(isSampled('f312d126c4b03e8ed1710fcd3ca55452', 0.85)).toBe(true);
  });

  it('is nested: a trace sampled at a low rate is sampled at every higher rate', () => {
    const rates = [0.01, 0.1, 0.25, 0.5, 0.9, 1];
    let atTen = 0;
    for (const id of ids) {
      if (isSampled(id, 0.1)) {
        atTen++;
        expect(isSampled(id, 0.5)).toBe(true);
      }
      // Monotone in the rate for every trace.
      const picks = rates.map((r) => isSampled(id, r));
      const first = picks.indexOf(true);
      expect(first).toBeGreaterThanOrEqual(0);
      expect(picks.slice(first).every(Boolean)).toBe(true);
    }
    expect(atTen).toBeGreaterThan(0);
  });

  it('samples each rate within 2 points over 20,000 random trace ids', () => {
    for (const rate of [0.01, 0.1, 0.25, 0.5, 0.75]) {
      const observed = ids.filter((id) => isSampled(id, rate)).length / ids.length;
      expect(Math.abs(observed - rate), `rate ${rate}: observed ${observed}`).toBeLessThan(0.02);
    }
  });

  it('takes everything at 1 and nothing at 0', () => {
    expect(ids.every((id) => isSampled(id, 1))).toBe(true);
    expect(ids.some((id) => isSampled(id, 0))).toBe(false);
  });
});

describe('scorer assessment ids', () => {
  const base = ['shop', 'f312d126c4b03e8ed1710fcd3ca55452', 'relevance_to_query', '1'] as const;

  it('are stable for the same project, trace, scorer, version and key', () => {
    const a = scorerAssessmentId(...base);
    expect(a).toMatch(/^e-[0-9a-f]{32}$/);
    expect(scorerAssessmentId(...base)).toBe(a);
    expect(scorerAssessmentId(...base, '')).toBe(a);
    // Pinned: if the derivation changed between releases, re-scoring a trace after an upgrade would add
    // a second verdict next to the old one instead of replacing it.
    expect(a).toBe('e-1c2efbd5d72259c77e75f1fea2845e7c');
  });

  it('change when any part changes, the scorer version above all', () => {
    const a = scorerAssessmentId(...base);
    const variants = [
      scorerAssessmentId('shop', base[1], base[2], '2'),
      scorerAssessmentId('other', base[1], base[2], base[3]),
      scorerAssessmentId('shop', 'ea01b61da967432e66b0004b1ad1fbaa', base[2], base[3]),
      scorerAssessmentId('shop', base[1], 'professional_tone', base[3]),
      scorerAssessmentId(...base, 'b7ad6b7169203331'),
    ];
    expect(variants).not.toContain(a);
    expect(new Set(variants).size).toBe(variants.length);
  });

  it('cannot collide by moving text between the parts', () => {
    // Without a separator "ab"+"c" and "a"+"bc" would hash the same.
    expect(scorerAssessmentId('ab', 't', 's', '1')).not.toBe(scorerAssessmentId('a', 'bt', 's', '1'));
    expect(scorerAssessmentId('p', 't', 'scorer1', '')).not.toBe(scorerAssessmentId('p', 't', 'scorer', '1'));
  });
});
