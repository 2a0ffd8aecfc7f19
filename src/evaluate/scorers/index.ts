import type { EvaluatorConfig, ScorerConfig } from '../config.js';
import { JudgeClient } from '../judge/client.js';
import { createJudgeScorer } from './judges.js';
import { createCodeScorer } from './code.js';
import { createCustomScorer } from './custom.js';
import type { Scorer } from './types.js';
import { compileFilter } from '../../query/filter/index.js';

/** A scorer with the parts of its config that decide which traces it sees. */
export interface ConfiguredScorer {
  scorer: Scorer;
  sampleRate: number;
  filter: string;
}

const JUDGES = new Set(['guidelines', 'relevance_to_query', 'retrieval_groundedness', 'retrieval_relevance', 'retrieval_sufficiency', 'correctness', 'safety']);

/** Builds every configured scorer; the judge client is made only if some scorer needs a model. */
export async function createScorers(cfg: Pick<EvaluatorConfig, 'scorers' | 'judge'>, baseDir: string): Promise<ConfiguredScorer[]> {
  let client: JudgeClient | null = null;
  const out: ConfiguredScorer[] = [];
  const names = new Set<string>();
  for (const s of cfg.scorers as ScorerConfig[]) {
    let scorer: Scorer;
    if (JUDGES.has(s.type)) {
      client ??= new JudgeClient(cfg.judge);
      scorer = createJudgeScorer(s as Parameters<typeof createJudgeScorer>[0], client, cfg.judge.default_model);
    } else if (s.type === 'custom') {
      scorer = await createCustomScorer(s, baseDir);
    } else {
      scorer = createCodeScorer(s as Parameters<typeof createCodeScorer>[0]);
    }
    // Two scorers writing the same assessment name would overwrite each other's verdicts.
    if (names.has(scorer.name)) throw new Error(`two scorers are named "${scorer.name}": give one a distinct \`name\``);
    names.add(scorer.name);
    // A filter that does not parse would fail every sampled trace at scoring time (and be retried forever):
    // stop at start-up instead, like any other invalid setting.
    if (s.filter.trim() !== '') {
      try {
        compileFilter(s.filter, { projectParam: 'project', spanTimeScope: '' });
      } catch (err) {
        throw new Error(`scorer "${scorer.name}": ${(err as Error).message}`);
      }
    }
    out.push({ scorer, sampleRate: s.sample_rate, filter: s.filter });
  }
  return out;
}
