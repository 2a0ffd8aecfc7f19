/** MLflow tracing's OTLP export: `mlflow.*` attributes whose values are all JSON-encoded. */
import type { Attributes } from '../model/otlp.js';
import { SPAN_TYPES, type SpanType } from '../model/genai.js';
import { type Draft, setInputs, setOutputs, setStr, setType, setUsageObject } from './draft.js';
import { decodeJson } from './util.js';

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
  setStr(d, 'sessionId', decodeJson(a['mlflow.trace.session']));
  setStr(d, 'userId', decodeJson(a['mlflow.trace.user']));

  if (type === 'TOOL' && d.tool === null) {
    const fn = decodeJson(a['mlflow.spanFunctionName']);
    d.tool = { name: typeof fn === 'string' && fn !== '' ? fn : spanName, arguments: null, result: null };
  }
}
