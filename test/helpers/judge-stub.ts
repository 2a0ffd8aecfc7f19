/**
 * An OpenAI-compatible chat-completions stub for judge tests and benchmarks. Verdicts are deterministic: "no" when
 * the prompt contains `JUDGE:NO` or the `rule` says so, else "yes". When the request's schema asks for per-item
 * `verdicts`, each `<document index="N">…</document>` block of the prompt gets its own verdict the same way.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

export type StubMode =
  | 'normal'
  | 'delay'
  | 'timeout'
  | 'rate-limit'
  | 'server-error'
  | 'bad-request'
  | 'malformed'
  | 'garbage'
  | { mode: 'normal' | 'timeout' | 'malformed' | 'garbage' }
  /** Answers normally after `ms` (200 by default). */
  | { mode: 'delay'; ms?: number }
  /** 429 for the first `count` calls (1 by default) with `headers` (`Retry-After: 1` by default), then normal. */
  | { mode: 'rate-limit'; count?: number; headers?: Record<string, string>; code?: string }
  /** `status` (500 by default) for the first `count` calls (1 by default), then normal. */
  | { mode: 'server-error'; count?: number; status?: number }
  /** 400 with `message` for the first `count` calls (1 by default), then normal. */
  | { mode: 'bad-request'; count?: number; message?: string; param?: string };

const chatBody = z.looseObject({
  model: z.string(),
  messages: z.array(z.looseObject({ role: z.string(), content: z.string() })),
  response_format: z.unknown().optional(),
});
export type ChatBody = z.infer<typeof chatBody>;

export interface JudgeStubOptions {
  mode?: StubMode;
  /** Extra "no" rule over the request body. */
  rule?: (body: ChatBody) => boolean;
}

export interface StubCall {
  model: string;
  body: unknown;
  /** Date.now() when the request arrived. */
  at: number;
  /** Status answered (0 while unanswered). */
  status: number;
}

export interface JudgeStub {
  /** Base URL to configure, ending in /v1. */
  url: string;
  calls: StubCall[];
  setMode(m: StubMode): void;
  close(): Promise<void>;
}

type Active = { name: StubModeName; remaining: number; spec: Exclude<StubMode, string> };
type StubModeName = Extract<StubMode, string>;

const DOCUMENT_BLOCK = /<document index="(\d+)"[^>]*>([\s\S]*?)<\/document>/g;

function activate(m: StubMode): Active {
  const spec = typeof m === 'string' ? ({ mode: m } as Exclude<StubMode, string>) : m;
  const count = 'count' in spec && spec.count !== undefined ? spec.count : 1;
  return { name: spec.mode, remaining: count, spec };
}

const tokens = (s: string): number => Math.ceil(s.length / 4);

export async function startJudgeStub(opts: JudgeStubOptions = {}): Promise<JudgeStub> {
  const calls: StubCall[] = [];
  let active = activate(opts.mode ?? 'normal');
  const hanging = new Set<ServerResponse>();

  const send = (res: ServerResponse, call: StubCall | undefined, status: number, payload: unknown, headers: Record<string, string> = {}): void => {
    if (call) call.status = status;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(payload));
  };
  const apiError = (message: string, type: string, code: string | null, param: string | null = null) => ({ error: { message, type, param, code } });

  const answer = (res: ServerResponse, call: StubCall, body: ChatBody, style: 'json' | 'malformed' | 'garbage'): void => {
    const system = body.messages.find((m) => m.role === 'system')?.content ?? '';
    const prompt = body.messages.map((m) => m.content).join('\n');
    const judgeName = system.split('\n')[0] ?? '';
    const ruleNo = opts.rule?.(body) ?? false;
    const schemaText = JSON.stringify(body.response_format ?? null);
    let result: 'yes' | 'no';
    let verdicts: Array<{ index: number; result: 'yes' | 'no' }> | undefined;
    if (schemaText.includes('"verdicts"')) {
      verdicts = [...prompt.matchAll(DOCUMENT_BLOCK)].map((m) => ({
        index: Number(m[1]),
        result: ruleNo || (m[2] ?? '').includes('JUDGE:NO') ? 'no' : 'yes',
      }));
      result = verdicts.some((v) => v.result === 'yes') ? 'yes' : 'no';
    } else {
      result = ruleNo || prompt.includes('JUDGE:NO') ? 'no' : 'yes';
    }
    const rationale = `${judgeName} → ${result} (stub)`;
    const content =
      style === 'malformed'
        ? `Sure! The answer is ${result} because ${rationale}`
        : style === 'garbage'
          ? 'Hmm, hard to say. Let me tell you about the weather instead.'
          : JSON.stringify({ rationale, ...(verdicts ? { verdicts } : {}), result });
    send(res, call, 200, {
      id: `chatcmpl-stub-${calls.length}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: tokens(prompt), completion_tokens: tokens(content), total_tokens: tokens(prompt) + tokens(content) },
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      send(res, undefined, 404, apiError(`no route ${req.method ?? ''} ${req.url ?? ''}`, 'invalid_request_error', null));
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let raw: unknown;
    try {
      raw = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      send(res, undefined, 400, apiError('body is not JSON', 'invalid_request_error', null));
      return;
    }
    const parsed = chatBody.safeParse(raw);
    const call: StubCall = { model: parsed.success ? parsed.data.model : '', body: raw, at: Date.now(), status: 0 };
    calls.push(call);
    if (!parsed.success) {
      send(res, call, 400, apiError(z.prettifyError(parsed.error), 'invalid_request_error', null));
      return;
    }
    const body = parsed.data;

    // Counted modes fall back to normal once their count is used up.
    const counted = active.name === 'rate-limit' || active.name === 'server-error' || active.name === 'bad-request';
    const mode: StubModeName = counted && active.remaining <= 0 ? 'normal' : active.name;
    if (counted && active.remaining > 0) active.remaining--;
    const spec = active.spec;

    switch (mode) {
      case 'timeout':
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      case 'delay': {
        const ms = spec.mode === 'delay' ? (spec.ms ?? 200) : 200;
        setTimeout(() => {
          if (!res.destroyed) answer(res, call, body, 'json');
        }, ms);
        return;
      }
      case 'rate-limit': {
        const headers = spec.mode === 'rate-limit' ? (spec.headers ?? { 'retry-after': '1' }) : {};
        const code = spec.mode === 'rate-limit' ? (spec.code ?? 'rate_limit_exceeded') : 'rate_limit_exceeded';
        send(res, call, 429, apiError('Rate limit reached (stub)', 'requests', code), headers);
        return;
      }
      case 'server-error': {
        const status = spec.mode === 'server-error' ? (spec.status ?? 500) : 500;
        send(res, call, status, apiError('The server had an error (stub)', 'server_error', null));
        return;
      }
      case 'bad-request': {
        const message = spec.mode === 'bad-request' ? (spec.message ?? 'Invalid request (stub)') : 'Invalid request (stub)';
        const param = spec.mode === 'bad-request' ? (spec.param ?? null) : null;
        send(res, call, 400, apiError(message, 'invalid_request_error', null, param));
        return;
      }
      case 'malformed':
      case 'garbage':
        answer(res, call, body, mode);
        return;
      case 'normal':
        answer(res, call, body, 'json');
        return;
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, undefined, 500, apiError(String(err), 'server_error', null));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    calls,
    setMode(m: StubMode): void {
      active = activate(m);
    },
    async close(): Promise<void> {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
