/** Judge call cost in USD from token counts. */
import type { JudgeConfig } from '../config.js';

export interface ModelPrice {
  input_per_million: number;
  output_per_million: number;
}

/**
 * USD per million tokens, OpenAI standard tier (not Batch, not Flex, no cached-input discount), as published on
 * OpenAI's pricing page in August 2025. Only a fallback so that cost shows up without configuration: prices change,
 * and `evaluator.judge.prices` overrides any of them. Cached input is billed at full price here, so the figure is an
 * upper bound when prompts share a cached prefix.
 */
export const BUILTIN_PRICES: Readonly<Record<string, ModelPrice>> = {
  'gpt-4.1': { input_per_million: 2.0, output_per_million: 8.0 },
  'gpt-4.1-mini': { input_per_million: 0.4, output_per_million: 1.6 },
  'gpt-4.1-nano': { input_per_million: 0.1, output_per_million: 0.4 },
  'gpt-4o': { input_per_million: 2.5, output_per_million: 10.0 },
  'gpt-4o-mini': { input_per_million: 0.15, output_per_million: 0.6 },
  'gpt-5': { input_per_million: 1.25, output_per_million: 10.0 },
  'gpt-5-mini': { input_per_million: 0.25, output_per_million: 2.0 },
  'gpt-5-nano': { input_per_million: 0.05, output_per_million: 0.4 },
  o3: { input_per_million: 2.0, output_per_million: 8.0 },
  'o4-mini': { input_per_million: 1.1, output_per_million: 4.4 },
};

/** Configured price for the model name (without provider), else the built-in one, also for dated snapshots. */
export function priceFor(model: string, configured: JudgeConfig['prices']): ModelPrice | undefined {
  const own = configured[model];
  if (own) return own;
  // `gpt-4.1-mini-2025-04-14` is priced as `gpt-4.1-mini`.
  return BUILTIN_PRICES[model] ?? BUILTIN_PRICES[model.replace(/-\d{4}-\d{2}-\d{2}$/, '')];
}

export function costUsd(price: ModelPrice | undefined, inputTokens: number, outputTokens: number): number | null {
  if (!price) return null;
  return (inputTokens * price.input_per_million + outputTokens * price.output_per_million) / 1_000_000;
}
