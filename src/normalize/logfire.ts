/** Pydantic AI (as exported by Logfire or plain OTel): the keys it adds beside `gen_ai.*`. */
import type { Attributes } from '../model/otlp.js';
import type { Json } from '../model/genai.js';
import { addMetaObject, type Draft, setInputs, setNum, setOutputs } from './draft.js';
import { type GenAIEvent, genaiEventsToIO } from './events.js';
import { withSystemInstructions } from './messages.js';
import { decodeJson, isObject, type JsonObject, maybeJson, str } from './util.js';

/** Instrumentation v1 packs GenAI events into one JSON attribute: `[{ 'event.name': …, role, content }]`. */
function packedEvents(v: Json | undefined): GenAIEvent[] | null {
  if (!Array.isArray(v)) return null;
  const events: GenAIEvent[] = [];
  for (const e of v) {
    if (!isObject(e)) continue;
    // event.name / gen_ai.* are the envelope; the rest is the message payload.
    const body: JsonObject = {};
    for (const k in e) if (!k.startsWith('event.') && !k.startsWith('gen_ai.')) body[k] = e[k]!;
    events.push({ name: str(e['event.name']), attributes: {}, body });
  }
  return events;
}

export function applyLogfire(d: Draft, a: Attributes): void {
  setNum(d, 'cost', a['operation.cost']);

  // Agent run span: the whole conversation in, the agent's final result out.
  const all = a['pydantic_ai.all_messages'];
  if (all !== undefined && d.inputs === undefined) {
    setInputs(d, withSystemInstructions(decodeJson(all), decodeJson(a['gen_ai.system_instructions'])));
  }
  // A str result is stored as-is, anything else as JSON.
  setOutputs(d, maybeJson(a.final_result));

  const packed = a.all_messages_events ?? (typeof a.events === 'string' ? a.events : undefined);
  if (packed !== undefined && (d.inputs === undefined || d.outputs === undefined)) {
    const events = packedEvents(decodeJson(packed));
    if (events !== null) {
      const io = genaiEventsToIO(events);
      setInputs(d, io.inputs);
      setOutputs(d, io.outputs);
    }
  }

  // Tool span (older names; newer versions use gen_ai.tool.call.arguments/result, read by the GenAI module).
  const toolName = a['gen_ai.tool.name'];
  const args = a.tool_arguments;
  const result = a.tool_response;
  if (d.tool === null && typeof toolName === 'string' && (args !== undefined || result !== undefined)) {
    d.tool = {
      name: toolName,
      arguments: args === undefined ? null : (decodeJson(args) ?? null),
      result: result === undefined ? null : (maybeJson(result) ?? null),
    };
  }

  addMetaObject(d, decodeJson(a.metadata));
}
