/** MLflow tracing's OTLP export: `mlflow.*` attributes whose values are all JSON-encoded. */
import type { Attributes } from '../model/otlp.js';
import { SPAN_TYPES, type SpanType } from '../model/genai.js';
import { type Draft, setInputs, setOutputs, setStr, setType, setUsageObject } from './draft.js';
import { decodeJson, isObject } from './util.js';

const KNOWN = new Set<string>(SPAN_TYPES);

export function applyMlflow(d: Draft, a: Attributes, spanName: string): void {
  const type = decodeJson(a['mlflow.spanType']);
  // MLflow allows free-form span types; unknown ones leave room for other conventions on the span.
  if (typeof type === 'string' && KNOWN.has(type)) setType(d, type as SpanType);

  setInputs(d, decodeJson(a['mlflow.spanInputs']));
  setOutputs(d, decodeJson(a['mlflow.spanOutputs']));
  setUsageObject(d, decodeJson(a['mlflow.chat.tokenUsage']));
  setStr(d, 'model', decodeJson(a['mlflow.llm.model']));
  setStr(d, 'provider', decodeJson(a['mlflow.llm.provider']));
  // Autolog marks the message format of its LLM spans (`"openai"`, `"anthropic"`, …): the provider's API.
  setStr(d, 'provider', decodeJson(a['mlflow.message.format']));
  // A failed autolog call records no model of its own; its request (the span inputs) names it.
  if (d.model === '' && (type === 'LLM' || type === 'CHAT_MODEL') && isObject(d.inputs)) setStr(d, 'model', d.inputs.model);
  setStr(d, 'sessionId', decodeJson(a['mlflow.trace.session']));
  setStr(d, 'userId', decodeJson(a['mlflow.trace.user']));

  if (type === 'TOOL' && d.tool === null) {
    const fn = decodeJson(a['mlflow.spanFunctionName']);
    d.tool = { name: typeof fn === 'string' && fn !== '' ? fn : spanName, arguments: null, result: null };
  }
}
