import { describe, expect, it } from 'vitest';
import { distinctModels } from '../../src/query/trace-aggregates.js';
import { requestPreview, responsePreview } from '../../src/exporters/clickhouse/rows.js';
import { operationType } from '../../src/normalize/otel-genai.js';
import { isMappedKey, keyPattern } from '../../src/normalize/mapped-keys.js';

const j = (v: unknown): string => JSON.stringify(v);

describe('previews as text', () => {
  it('takes the last user message and the assistant answer from every message shape', () => {
    const otel = [
      { role: 'system', parts: [{ type: 'text', content: 'be brief' }] },
      { role: 'user', parts: [{ type: 'text', content: 'first' }] },
      { role: 'assistant', parts: [{ type: 'text', content: 'ok' }] },
      { role: 'user', parts: [{ type: 'text', content: 'second' }] },
    ];
    expect(requestPreview(j(otel), 100)).toBe('second');
    expect(responsePreview(j([{ role: 'assistant', parts: [{ type: 'text', content: 'Dear X' }], finish_reason: 'stop' }]), 100)).toBe('Dear X');
    expect(requestPreview(j({ model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] }), 100)).toBe('hi');
    expect(responsePreview(j({ choices: [{ index: 0, message: { role: 'assistant', content: 'yes' } }] }), 100)).toBe('yes');
    const lc = { generations: [[{ text: 'gen', type: 'ChatGeneration', message: { lc: 1, type: 'constructor', kwargs: { content: 'gen', type: 'ai' } } }]] };
    expect(responsePreview(j(lc), 100)).toBe('gen');
    expect(requestPreview(j([[{ lc: 1, type: 'constructor', kwargs: { content: 'q', type: 'human' } }]]), 100)).toBe('q');
  });

  it('shows a payload that is not chat as itself, cut at the limit', () => {
    expect(requestPreview(j({ customer: 'Acme' }), 100)).toBe('{"customer":"Acme"}');
    expect(responsePreview(j('plain answer'), 5)).toBe('plain');
    expect(requestPreview(j([{ role: 'user', content: 'abcdefgh' }]), 3)).toBe('abc');
    expect(requestPreview('', 10)).toBe('');
  });
});

describe('GenAI operation names', () => {
  it('types every operation of the current conventions and the replaced spellings', () => {
    const current = [
      'chat',
      'generate_content',
      'text_completion',
      'embeddings',
      'retrieval',
      'create_agent',
      'invoke_agent',
      'execute_tool',
      'invoke_workflow',
    ];
    for (const op of [...current, 'completion', 'embedding']) expect(operationType(op), op).toBeDefined();
    expect(operationType('invoke_workflow')).toBe('CHAIN');
  });
});

describe('models of a trace', () => {
  it('drops an alias beside its dated snapshot, keeps distinct models', () => {
    expect(distinctModels(new Set(['gpt-4o-mini', 'gpt-4o-mini-2024-07-18']))).toEqual(['gpt-4o-mini-2024-07-18']);
    expect(distinctModels(new Set(['claude-3-5-sonnet', 'claude-3-5-sonnet-20241022']))).toEqual(['claude-3-5-sonnet-20241022']);
    expect(distinctModels(new Set(['gpt-4o', 'gpt-4o-mini']))).toEqual(['gpt-4o', 'gpt-4o-mini']);
  });
});

describe('mapped keys', () => {
  it('knows the keys and prefixes the mappings read, and groups list indices', () => {
    expect(isMappedKey('gen_ai.request.model')).toBe(true);
    expect(isMappedKey('llm.input_messages.3.message.content')).toBe(true);
    expect(isMappedKey('gen_ai.response.id')).toBe(false);
    expect(keyPattern('llm.tools.0.tool.json_schema')).toBe('llm.tools.*.tool.json_schema');
    expect(keyPattern('a.10')).toBe('a.*');
  });
});
