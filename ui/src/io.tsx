/**
 * Renderers for what a span carries, as what it is: chat messages as a conversation (with tool calls and
 * their results), retrieved documents with scores, a tool's arguments and result. Every GenAI convention
 * tracehouse maps (OpenAI request/response bodies, OTel GenAI parts, Vercel AI SDK content parts,
 * OpenInference, MLflow) is read by the one `toMessages`; anything else is shown as text or JSON.
 */
import { useState } from 'react';
import type { Document, Json, Span } from './api.js';

export type ChatPart =
  | { kind: 'text'; text: string }
  | { kind: 'tool_call'; id: string | null; name: string; args: Json }
  | { kind: 'tool_result'; id: string | null; name: string | null; result: Json }
  | { kind: 'other'; value: Json };

export interface ChatMessage {
  role: string;
  parts: ChatPart[];
}

type Obj = { [key: string]: Json };
const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: Json | undefined): string | null => (typeof v === 'string' ? v : null);

/** JSON text (OpenAI's tool-call arguments are a string) as its value when it parses. */
function maybeJson(v: Json | undefined): Json {
  if (typeof v !== 'string') return v ?? null;
  const t = v.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return v;
  try {
    return JSON.parse(t) as Json;
  } catch {
    return v;
  }
}

function contentParts(content: Json | undefined): ChatPart[] {
  if (content === undefined || content === null) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ kind: 'text', text: content }];
  if (!Array.isArray(content)) return [{ kind: 'other', value: content }];
  return content.map((p): ChatPart => {
    if (typeof p === 'string') return { kind: 'text', text: p };
    if (!isObj(p)) return { kind: 'other', value: p };
    const type = str(p.type) ?? '';
    const text = str(p.content) ?? str(p.text);
    if ((type === 'text' || type === 'reasoning' || type === '') && text !== null) return { kind: 'text', text };
    if (type === 'tool_call' || type === 'tool-call' || type === 'function_call' || type === 'tool_use') {
      return {
        kind: 'tool_call',
        id: str(p.id) ?? str(p.toolCallId),
        name: str(p.name) ?? str(p.toolName) ?? '?',
        args: maybeJson(p.arguments ?? p.args ?? p.input),
      };
    }
    if (type === 'tool_call_response' || type === 'tool-result' || type === 'tool_result' || type === 'function_call_output') {
      return {
        kind: 'tool_result',
        id: str(p.id) ?? str(p.toolCallId) ?? str(p.tool_use_id),
        name: str(p.toolName) ?? str(p.name),
        result: maybeJson(p.response ?? p.output ?? p.result ?? p.content),
      };
    }
    return { kind: 'other', value: p };
  });
}

function message(m: Obj): ChatMessage {
  const role = str(m.role) ?? 'unknown';
  const parts = Array.isArray(m.parts) ? contentParts(m.parts) : contentParts(m.content);
  if (Array.isArray(m.tool_calls)) {
    for (const c of m.tool_calls) {
      if (!isObj(c)) continue;
      const fn = isObj(c.function) ? c.function : c;
      parts.push({ kind: 'tool_call', id: str(c.id), name: str(fn.name) ?? '?', args: maybeJson(fn.arguments) });
    }
  }
  // OpenAI's tool message: its content is the result of the call it names.
  if (role === 'tool' && str(m.tool_call_id) !== null) {
    return {
      role,
      parts: parts.map((p) => (p.kind === 'text' ? { kind: 'tool_result', id: str(m.tool_call_id), name: str(m.name), result: maybeJson(p.text) } : p)),
    };
  }
  return { role, parts };
}

const isMessageList = (v: Json): v is Obj[] => Array.isArray(v) && v.length > 0 && v.every((m) => isObj(m) && typeof m.role === 'string');

/** A span's inputs or outputs as chat messages, or null when they are not a conversation. */
export function toMessages(v: Json | null | undefined): ChatMessage[] | null {
  if (v === null || v === undefined) return null;
  if (isMessageList(v)) return v.map(message);
  if (isObj(v)) {
    if (v.messages !== undefined && isMessageList(v.messages)) return v.messages.map(message);
    if (Array.isArray(v.choices)) {
      const msgs = v.choices.flatMap((c) => (isObj(c) && isObj(c.message) ? [message(c.message)] : []));
      if (msgs.length > 0) return msgs;
    }
    if (isObj(v.message) && typeof v.message.role === 'string') return [message(v.message)];
  }
  return null;
}

export function JsonValue({ value }: { value: Json }) {
  if (typeof value === 'string') return <pre className="text">{value}</pre>;
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

function Part({ part }: { part: ChatPart }) {
  switch (part.kind) {
    case 'text':
      return <div className="msg-text">{part.text}</div>;
    case 'tool_call':
      return (
        <div className="tool-call" data-testid="tool-call">
          <div className="tool-head">
            ⚙ call <b>{part.name}</b>
            {part.id ? <span className="muted"> #{part.id}</span> : null}
          </div>
          <JsonValue value={part.args} />
        </div>
      );
    case 'tool_result':
      return (
        <div className="tool-result" data-testid="tool-result">
          <div className="tool-head">
            ↩ result{part.name ? <b> {part.name}</b> : null}
            {part.id ? <span className="muted"> #{part.id}</span> : null}
          </div>
          <JsonValue value={part.result} />
        </div>
      );
    default:
      return <JsonValue value={part.value} />;
  }
}

export function Conversation({ messages }: { messages: ChatMessage[] }) {
  return (
    <div className="conversation" data-testid="conversation">
      {messages.map((m, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: messages have no id and never reorder
        <div key={i} className={`msg role-${m.role}`} data-role={m.role}>
          <div className="role">{m.role}</div>
          {m.parts.map((p, j) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: parts have no id and never reorder
            <Part key={j} part={p} />
          ))}
        </div>
      ))}
    </div>
  );
}

export function Documents({ documents }: { documents: Document[] }) {
  return (
    <ol className="documents" data-testid="documents">
      {documents.map((d, i) => (
        <li key={d.id ?? i} className="doc">
          <div className="doc-head">
            <span className="doc-id">{d.id ?? `document ${i + 1}`}</span>
            {d.score !== null ? <span className="score">score {d.score.toFixed(3)}</span> : null}
            {d.uri ? <span className="muted">{d.uri}</span> : null}
          </div>
          <div className="doc-body">{d.content ?? ''}</div>
        </li>
      ))}
    </ol>
  );
}

export function ToolCall({ tool }: { tool: NonNullable<Span['tool']> }) {
  return (
    <div className="tool" data-testid="tool">
      <div className="tool-call">
        <div className="tool-head">
          ⚙ <b>{tool.name}</b> arguments
        </div>
        <JsonValue value={tool.arguments} />
      </div>
      <div className="tool-result">
        <div className="tool-head">↩ result</div>
        <JsonValue value={tool.result} />
      </div>
    </div>
  );
}

function Value({ value, label }: { value: Json | null; label: string }) {
  if (value === null || value === undefined) return null;
  const messages = toMessages(value);
  return (
    <section>
      <h4>{label}</h4>
      {messages ? <Conversation messages={messages} /> : <JsonValue value={value} />}
    </section>
  );
}

/** What a span took and gave, as what it is; documents and tool calls first when the span has them. */
export function SpanIO({ span }: { span: Pick<Span, 'inputs' | 'outputs' | 'documents' | 'tool'> }) {
  const hasDocs = span.documents.length > 0;
  const empty = span.inputs === null && span.outputs === null && !hasDocs && !span.tool;
  return (
    <div className="span-io">
      {span.tool ? (
        <section>
          <h4>Tool</h4>
          <ToolCall tool={span.tool} />
        </section>
      ) : null}
      <Value value={span.inputs} label="Inputs" />
      {hasDocs ? (
        <section>
          <h4>Retrieved documents ({span.documents.length})</h4>
          <Documents documents={span.documents} />
        </section>
      ) : (
        <Value value={span.outputs} label="Outputs" />
      )}
      {empty ? <p className="muted">This span recorded no inputs or outputs.</p> : null}
    </div>
  );
}

/** Raw attributes and events, one click away from the rendered view. */
export function RawSpan({ span }: { span: Span }) {
  const [open, setOpen] = useState(false);
  return (
    <section>
      <button type="button" className="link" onClick={() => setOpen(!open)}>
        {open ? '▾' : '▸'} Raw attributes ({Object.keys(span.attributes).length}) and events ({span.events.length})
      </button>
      {open ? (
        <div data-testid="raw">
          <JsonValue value={span.attributes} />
          {span.events.length > 0 ? <JsonValue value={span.events as unknown as Json} /> : null}
          <JsonValue value={span.resource_attributes} />
        </div>
      ) : null}
    </section>
  );
}
