/**
 * Scores the sales-email example's traces with the two scorers of examples/scorers.yaml (an LLM judge and
 * a code check) through `tracehouse evaluate`, the judge being the local OpenAI-compatible stub unless
 * OPENAI_BASE_URL says otherwise, then prints each trace's verdicts as the API returns them.
 *
 *   npm run example:evaluate [-- --api-url URL]    # after `npm start` and `npm run example`
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startOpenAIStub } from './openai-stub.mjs';

const args = process.argv.slice(2);
const at = args.indexOf('--api-url');
const api = at >= 0 ? args[at + 1] : (process.env.TRACEHOUSE_API_URL ?? 'http://localhost:8080');
const project = 'sales-email';

const stub = process.env.OPENAI_BASE_URL ? null : await startOpenAIStub();
const bin = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const scorers = fileURLToPath(new URL('./scorers.yaml', import.meta.url));
// The stub is served from this process, so the command runs as a child while this one keeps serving.
const run = await new Promise((resolve) => {
  const child = spawn(process.execPath, [bin, 'evaluate', '--scorers', scorers, '--project', project, '--api-url', api], {
    stdio: 'inherit',
    env: { ...process.env, ...(stub ? { OPENAI_BASE_URL: stub.url, OPENAI_API_KEY: 'stub' } : {}) },
  });
  child.once('exit', (code) => resolve(code ?? 1));
});
await stub?.close();
if (run !== 0) process.exit(run);

const get = async (path) => {
  const res = await fetch(new URL(path, api));
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
};
const { traces } = await get(`/api/v1/traces?project=${project}&max_results=100`);
console.log('\nVerdicts (GET /api/v1/traces/{trace_id}/assessments):');
for (const t of traces) {
  const { assessments } = await get(`/api/v1/traces/${t.trace_id}/assessments?project=${project}`);
  const request = JSON.parse(t.request_preview || '{}');
  console.log(`${t.trace_id}  ${request.customer_name ?? ''}: ${request.user_instructions ?? t.request_preview}`);
  for (const a of assessments.filter((x) => x.source?.source_type !== 'HUMAN')) {
    console.log(`    ${a.name.padEnd(22)} ${String(a.value).padEnd(6)} ${a.rationale ?? ''}`);
  }
}
