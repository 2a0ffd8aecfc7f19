/** Message-list helpers shared by the GenAI attribute and event paths. */
import type { Json } from '../model/genai.js';

/**
 * `gen_ai.system_instructions` travels beside the input messages; inputs read better as one list, so the
 * instructions become a leading system message in the same parts format.
 */
export function withSystemInstructions(messages: Json | undefined, system: Json | undefined): Json | undefined {
  if (system === undefined || system === null || system === '') return messages;
  const parts: Json = Array.isArray(system) ? system : typeof system === 'string' ? [{ type: 'text', content: system }] : [system];
  const systemMessage: Json = { role: 'system', parts };
  if (messages === undefined || messages === null) return [systemMessage];
  if (Array.isArray(messages)) return [systemMessage, ...messages];
  return messages;
}
