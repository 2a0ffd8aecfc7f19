/**
 * The web UI in a real browser (headless Chromium through playwright-core) against the started product,
 * loaded with the fixtures of every convention and scored by two judges (the OpenAI-compatible stub) and a
 * code check. Screenshots of the main pages go to test/browser/screenshots/ (gitignored).
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssessmentView, TraceInfoView } from '../../src/api/views.js';
import { getJson, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { launchChromium } from '../helpers/browser.js';
import { exportSpans } from '../helpers/exporters.js';
import { FIXTURE_NAMES, fixtureSpans, loadFacts } from '../helpers/fixtures.js';
import { startJudgeStub, type JudgeStub } from '../helpers/judge-stub.js';

const PROJECT = 'ui-test';
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
const facts = FIXTURE_NAMES.map((n) => loadFacts(n));
const ALL = facts.flatMap((f) => f.traces);
const ERRORS = ALL.filter((t) => t.state === 'ERROR');
/** The OpenInference Acme Corp trace: an LLM span with messages and a retriever with scored documents. */
const ACME = loadFacts('openinference').traces[0]!.trace_id;
const RELEVANCE_JUDGE = 'You are an impartial judge of whether a response is relevant to the request it answers.';

let stub: JudgeStub;
let t: TestApp;
let browser: Browser;
let page: Page;

async function until<T>(what: string, f: () => Promise<T | undefined | null | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
const rows = (p: Page) => p.locator('[data-testid=traces] tbody tr');
const shot = (p: Page, name: string) => p.screenshot({ path: `${SHOTS}${name}.png`, fullPage: false });

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stub = await startJudgeStub({
    rule: (body) =>
      (body.messages.find((m) => m.role === 'system')?.content ?? '').startsWith(RELEVANCE_JUDGE) && body.messages.some((m) => m.content.includes('TechStart')),
  });
  t = await startTestApp({
    overrides: {
      'evaluator.settle_ms': 300,
      'evaluator.judge.base_url': stub.url,
      'evaluator.judge.api_key': 'test',
      'evaluator.scorers': [{ type: 'relevance_to_query' }, { type: 'retrieval_groundedness' }, { type: 'error_free' }],
    },
  });
  for (const name of FIXTURE_NAMES) expect((await exportSpans('proto', { http: t.otlpHttp, grpc: t.otlpGrpc }, fixtureSpans(name), PROJECT)).code).toBe(0);
  // Every trace carries its error_free verdict once the evaluator has been through it.
  await until('verdicts on every trace', async () => {
    const r = await getJson<{ traces: TraceInfoView[] }>(`${t.api}/api/v1/traces?project=${PROJECT}&max_results=100`);
    return r.body.traces.length === ALL.length && r.body.traces.every((x) => 'error_free' in x.assessments);
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
});

afterAll(async () => {
  await browser?.close();
  await t?.stop();
  await stub?.close();
  if (t) removeDir(t.dataDir);
});

describe('web UI', () => {
  it('serves the app at / with SPA fallback, and the JSON API stays under /api', async () => {
    const root = await fetch(`${t.api}/`);
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toMatch(/^text\/html/);
    expect(root.headers.get('cache-control')).toBe('no-cache');
    const deep = await fetch(`${t.api}/traces/${ACME}?project=${PROJECT}`);
    expect(deep.headers.get('content-type')).toMatch(/^text\/html/);
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(await root.text())?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${t.api}${asset}`);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${t.api}/assets/missing.js`)).status).toBe(404);
    // A path out of the UI's folder finds nothing.
    const out = await fetch(`${t.api}/..%2f..%2fpackage.json`);
    expect(out.status).toBe(404);
    expect(await out.text()).not.toContain('tracehouse');
    const api = await fetch(`${t.api}/api/v1/nope`);
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });

  it('lists the traces with their verdicts', async () => {
    await page.goto(`${t.api}/traces?project=${PROJECT}&range=24h`);
    await until('all rows', async () => (await rows(page).count()) === ALL.length);
    const acme = page.locator(`tr[data-trace-id="${ACME}"]`);
    expect(await acme.textContent()).toContain('error_free');
    expect(await acme.locator('.verdict.pass').count()).toBeGreaterThan(0);
    await shot(page, 'traces-1280');
    await page.setViewportSize({ width: 1920, height: 1080 });
    await shot(page, 'traces-1920');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('narrows the list with a filter kept in the URL, and shows a bad filter at its position', async () => {
    const box = page.getByTestId('filter');
    await box.fill("trace.status = 'ERROR'");
    await box.press('Enter');
    await until('error rows only', async () => (await rows(page).count()) === ERRORS.length);
    expect(new URL(page.url()).searchParams.get('filter')).toBe("trace.status = 'ERROR'");

    await box.fill("trace.status = 'OK' AND span.type ~ 'LLM'");
    await box.press('Enter');
    const err = page.getByTestId('filter-error');
    await err.waitFor();
    expect(await err.textContent()).toMatch(/at position 34/);
    expect(await err.locator('.caret').textContent()).toContain(`'OK' AND span.type ~ 'LLM'\n${' '.repeat(34)}^`);
    await shot(page, 'filter-error');

    // Key completion: typing a prefix offers the keys, Tab takes the first.
    await box.fill('');
    await box.pressSequentially('span.ty');
    await page.locator('.suggest [role=option]').first().waitFor();
    await box.press('Tab');
    expect(await box.inputValue()).toBe('span.type ');
  });

  it('opens a trace: span tree, an LLM span as a conversation, a retriever with scored documents', async () => {
    await page.goto(`${t.api}/traces?project=${PROJECT}`);
    await page.locator(`tr[data-trace-id="${ACME}"]`).click();
    const tree = page.getByTestId('span-tree');
    await tree.waitFor();
    for (const name of ['generate_sales_email', 'retrieve_customer_info', 'OpenAI Chat Completions']) {
      await tree.getByText(name, { exact: false }).first().waitFor();
    }
    // The LLM span is selected first: its request and reply as messages.
    const detail = page.getByTestId('span-detail');
    await detail.getByTestId('conversation').first().waitFor();
    expect(await detail.locator('.msg[data-role=user]').first().textContent()).toContain('You are a sales representative');
    expect(await detail.locator('.msg[data-role=assistant]').first().textContent()).toContain('Subject: Follow-up');
    expect(await detail.getByTestId('span-tokens').textContent()).toContain('32 tokens');
    await shot(page, 'trace-llm');

    await tree.locator('.span-row', { hasText: 'retrieve_customer_info' }).click();
    const docs = detail.getByTestId('documents');
    await docs.waitFor();
    expect(await docs.locator('.doc').count()).toBe(3);
    expect(await docs.textContent()).toContain('Acme Corp_meeting');
    expect(await docs.textContent()).toContain('score 1.000');
    await shot(page, 'trace-retriever');

    // Keyboard: arrow keys move the selection in the tree.
    await tree.focus();
    const before = new URL(page.url()).searchParams.get('span');
    await page.keyboard.press('ArrowUp');
    await until('selection moved', async () => new URL(page.url()).searchParams.get('span') !== before);
  });

  it("shows the judges' rationales, and feedback added through the form reaches the API", async () => {
    await page.getByRole('tab', { name: /Assessments/ }).click();
    const panel = page.getByTestId('assessments');
    await panel.locator('[data-testid=assessment][data-name=relevance_to_query] [data-testid=rationale]').waitFor();
    expect(await panel.locator('[data-name=relevance_to_query] [data-testid=rationale]').textContent()).toContain('(stub)');
    expect(await panel.locator('[data-name=relevance_to_query]').textContent()).toMatch(/judge .*gpt/);
    await shot(page, 'trace-assessments');

    const form = page.getByTestId('add-assessment');
    await form.getByLabel('rationale').fill('clear and polite, sent as is');
    await form.getByLabel('thumbs up').click();
    const saved = await until('feedback in the API', async () => {
      const r = await getJson<{ assessments: AssessmentView[] }>(`${t.api}/api/v1/traces/${ACME}/assessments?project=${PROJECT}`);
      return r.body.assessments.find((a) => a.name === 'user_feedback');
    });
    expect(saved).toMatchObject({ value: true, rationale: 'clear and polite, sent as is', source: { source_type: 'HUMAN', source_id: 'web-ui' } });
    await panel.locator('[data-name=user_feedback]').waitFor();

    // Override a judge's verdict: a new human verdict that supersedes it.
    const card = panel.locator('[data-name=relevance_to_query]');
    await card.getByRole('button', { name: 'Override' }).click();
    await card.getByLabel('rationale').fill('a human disagrees');
    await card.getByLabel('thumbs down').click();
    await until('override in the API', async () => {
      const r = await getJson<{ assessments: AssessmentView[] }>(`${t.api}/api/v1/traces/${ACME}/assessments?project=${PROJECT}`);
      return r.body.assessments.find((a) => a.name === 'relevance_to_query' && a.source.source_type === 'HUMAN' && a.value === false && a.overrides);
    });
  });

  it('reopens the same view from a shared URL', async () => {
    await page.getByRole('tab', { name: 'Span' }).click();
    await page.getByTestId('span-tree').locator('.span-row', { hasText: 'retrieve_customer_info' }).click();
    await page.getByTestId('documents').waitFor();
    const url = page.url();
    const other = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await other.goto(url);
      await other.getByTestId('documents').waitFor();
      expect(await other.locator('.span-row.sel').textContent()).toContain('retrieve_customer_info');
      // And a filtered list reopens filtered.
      await other.goto(`${t.api}/traces?project=${PROJECT}&filter=${encodeURIComponent("trace.status = 'ERROR'")}`);
      await until('filtered rows', async () => (await rows(other).count()) === ERRORS.length);
      expect(await other.getByTestId('filter').inputValue()).toBe("trace.status = 'ERROR'");
    } finally {
      await other.close();
    }
  });

  it('shows quality over time, evaluator health and sessions', async () => {
    await page.goto(`${t.api}/quality?project=${PROJECT}&range=24h`);
    await page.locator('[data-testid=scorer-chart][data-name=relevance_to_query] canvas').waitFor();
    expect(await page.locator('[data-name=relevance_to_query] .fail').textContent()).toMatch(/[1-9]\d* fail/);
    await shot(page, 'quality');

    await page.goto(`${t.api}/evaluator?project=${PROJECT}&range=24h`);
    const health = page.getByTestId('health');
    await health.waitFor();
    expect(await health.textContent()).toContain('relevance_to_query');
    const status = await getJson<{ traces: number; scorers: Array<{ name: string; assessments: number; judge_input_tokens: number; pending_traces: number }> }>(
      `${t.api}/api/v1/evaluator/status?project=${PROJECT}`,
    );
    expect(status.status).toBe(200);
    expect(status.body.traces).toBe(ALL.length);
    const byName = new Map(status.body.scorers.map((s) => [s.name, s]));
    expect(byName.get('error_free')).toMatchObject({ assessments: ALL.length, judge_input_tokens: 0, pending_traces: 0 });
    expect(byName.get('relevance_to_query')!.judge_input_tokens).toBeGreaterThan(0);
    expect(byName.has('user_feedback'), 'human feedback is not a scorer').toBe(false);
    await shot(page, 'evaluator-health');

    await page.goto(`${t.api}/sessions?project=${PROJECT}&range=24h`);
    await page.getByText('s-1', { exact: true }).first().click();
    await page.locator('.turn').first().waitFor();
    await shot(page, 'session');
  });

  it('says when a project has no traces yet, and how to send some', async () => {
    await page.goto(`${t.api}/traces?project=empty-project`);
    await page.getByTestId('empty').waitFor();
    expect(await page.getByTestId('empty').textContent()).toContain('OTEL_EXPORTER_OTLP_ENDPOINT');
    await shot(page, 'empty');
  });
});
