#!/usr/bin/env node
/**
 * A local OpenAI-compatible server for the examples, so they need no API key and no network. It answers
 * `POST /v1/chat/completions` in two ways, deterministically:
 * - the sales-email app's prompts get a follow-up email built from the prompt's customer information;
 * - LLM-judge prompts (they ask for structured output) get a verdict: "no" when the judged text shouts
 *   (contains "!!") or carries the marker JUDGE:NO, else "yes", so scorers show both outcomes.
 *
 * As a program it prints `OPENAI_BASE_URL=http://127.0.0.1:PORT/v1` on its first line and serves until
 * SIGINT/SIGTERM or until its standard input closes (so a script that started it cannot leave it behind).
 *   node examples/openai-stub.mjs [--port N]
 */
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

const tokens = (s) => Math.ceil(s.length / 4);

/** What the judged text looks like to this stub's judge. */
const verdictFor = (text) => (text.includes('!!') || text.includes('JUDGE:NO') ? 'no' : 'yes');

function email(prompt) {
  const info = /Customer Information:([\s\S]*?)User instructions:/.exec(prompt)?.[1] ?? '';
  const instructions = (/User instructions:\s*(.*)/.exec(prompt)?.[1] ?? 'Follow up').trim();
  const contact = /Contact: ([^\n]+)/.exec(info)?.[1]?.trim() ?? 'there';
  const meeting = /Recent meeting: ([^\n]+)/.exec(info)?.[1]?.trim();
  const tickets = /Support tickets: ([^\n]+)/.exec(info)?.[1]?.trim();
  const lines = [`Subject: ${instructions}`, '', `Hi ${contact},`, ''];
  if (/enthusiastic/i.test(instructions)) lines.push('THANK YOU so much for your business!!! We are absolutely thrilled to work with you!!!', '');
  if (meeting) lines.push(`Thank you for the ${meeting.split(',')[0].toLowerCase()}.`);
  if (tickets && !/No open tickets/.test(tickets))
    lines.push(`About your support tickets (${tickets.split(',')[0]}): our team is on it and will update you this week.`);
  if (/detailed|all our product features/i.test(instructions)) {
    for (const topic of ['advanced analytics', 'real-time dashboards', 'API integrations', 'custom reporting', 'multi-user support', 'SSO authentication']) {
      lines.push(
        `${topic}: included in the enterprise tier, with onboarding, documentation, a named success manager, quarterly reviews, and a rollout plan that fits your team's calendar and your security review.`,
      );
    }
    lines.push('Pricing tiers: Team, Business and Enterprise (500+ users, volume pricing). Implementation takes four to six weeks.');
  }
  lines.push('', 'Would a 20-minute call next week work for you?', '', 'Best regards,', 'Your account team');
  return lines.join('\n');
}

function judge(body, prompt) {
  const schema = JSON.stringify(body.response_format ?? null);
  const name = (body.messages.find((m) => m.role === 'system')?.content ?? '').split('\n')[0].slice(0, 80);
  if (schema.includes('"verdicts"')) {
    const verdicts = [...prompt.matchAll(/<document index="(\d+)"[^>]*>([\s\S]*?)<\/document>/g)].map((m) => ({
      index: Number(m[1]),
      result: verdictFor(m[2]),
    }));
    const result = verdicts.some((v) => v.result === 'yes') ? 'yes' : 'no';
    return JSON.stringify({ rationale: `${name}: ${result} (stub judge)`, verdicts, result });
  }
  const result = verdictFor(prompt);
  return JSON.stringify({
    rationale: result === 'yes' ? 'The text is clear and measured (stub judge).' : 'The text shouts with repeated exclamation marks (stub judge).',
    result,
  });
}

function send(res, status, payload) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(payload));
}

async function handle(req, res, counter) {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/v1/models') return send(res, 200, { object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model' }] });
  if (req.method !== 'POST' || path !== '/v1/chat/completions')
    return send(res, 404, { error: { message: `no route ${req.method} ${path}`, type: 'invalid_request_error' } });
  const chunks = [];
  for await (const c of req) chunks.push(c);
  let body;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return send(res, 400, { error: { message: 'body is not JSON', type: 'invalid_request_error' } });
  }
  if (!Array.isArray(body?.messages)) return send(res, 400, { error: { message: 'messages is required', type: 'invalid_request_error' } });
  const prompt = body.messages.map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content))).join('\n');
  const content = body.response_format ? judge(body, prompt) : email(prompt);
  send(res, 200, {
    id: `chatcmpl-stub-${++counter.n}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: body.model ?? 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: tokens(prompt), completion_tokens: tokens(content), total_tokens: tokens(prompt) + tokens(content) },
  });
}

/** Starts the stub on 127.0.0.1; resolves with its base URL (ending in /v1) and a close function. */
export async function startOpenAIStub(port = 0) {
  const counter = { n: 0 };
  const server = createServer((req, res) => {
    handle(req, res, counter).catch((err) => {
      if (!res.headersSent) send(res, 500, { error: { message: String(err), type: 'server_error' } });
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}/v1`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--port');
  const stub = await startOpenAIStub(i > 0 ? Number(process.argv[i + 1]) : 0);
  process.stdout.write(`OPENAI_BASE_URL=${stub.url}\n`);
  const stop = () => stub.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}
