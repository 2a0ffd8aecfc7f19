/**
 * The web UI with API keys on (`auth.mode: required`): the sign-in first, then a project's read/write key
 * shows its traces and adds feedback, and another project's key is told plainly it cannot read this one.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssessmentView, TraceInfoView } from '../../src/api/views.js';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { BOOTSTRAP_KEY, type CreatedKey, createKey, waitFor } from '../helpers/auth.js';
import { launchChromium } from '../helpers/browser.js';
import { protobufBody, syntheticTrace } from '../helpers/synthetic.js';

const PROJECT = 'ui-keys';
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
const TRACES = [1, 2, 3].map((i) => syntheticTrace(i));

let t: TestApp;
let browser: Browser;
let page: Page;
let readWrite: CreatedKey;
let otherProject: CreatedKey;

const adminGet = async <T>(path: string): Promise<T> => {
  const res = await fetch(`${t.api}${path}`, { headers: { authorization: `Bearer ${BOOTSTRAP_KEY}` } });
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
};
const rows = (p: Page) => p.locator('[data-testid=traces] tbody tr');

async function signIn(p: Page, key: CreatedKey): Promise<void> {
  const form = p.getByTestId('sign-in');
  await form.waitFor();
  await form.getByLabel('API key').fill(key.secret);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await p.getByTestId('signed-in').waitFor();
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  mkdirSync('/tmp/hui', { recursive: true });
  t = await startTestApp({
    dataDir: mkdtempSync('/tmp/hui/ui-keys-'),
    overrides: { 'auth.mode': 'required', 'auth.bootstrap_admin_key': BOOTSTRAP_KEY },
  });
  readWrite = await createKey(t.api, BOOTSTRAP_KEY, { project: PROJECT, scopes: ['read', 'write'], name: 'ui' });
  otherProject = await createKey(t.api, BOOTSTRAP_KEY, { project: 'someone-else', scopes: ['read', 'write'], name: 'other' });
  const ingest = await createKey(t.api, BOOTSTRAP_KEY, { project: PROJECT, scopes: ['ingest'], name: 'ingest' });
  for (const tr of TRACES) {
    const res = await fetch(`${t.otlpHttp}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${ingest.secret}` },
      body: protobufBody(tr.spans),
    });
    expect(res.status).toBe(200);
  }
  await waitFor(
    async () => (await adminGet<{ traces: TraceInfoView[] }>(`/api/v1/traces?project=${PROJECT}`)).traces.length === TRACES.length,
    'the traces in the store',
    60_000,
  );
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
});

afterAll(async () => {
  await browser?.close();
  await t?.stop();
  if (t) removeDir(t.dataDir);
});

describe('web UI with API keys on', () => {
  it("asks for a key first, then a project's key shows that project's traces", async () => {
    await page.goto(`${t.api}/traces?range=24h`);
    const form = page.getByTestId('sign-in');
    await form.waitFor();
    expect(await form.textContent()).toContain('npx tracehouse keys create --project');
    await page.screenshot({ path: `${SHOTS}sign-in.png` });
    expect(await rows(page).count()).toBe(0);

    // A wrong key is refused on the form, and nothing is kept.
    await form.getByLabel('API key').fill('not-a-key');
    await form.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('sign-in-error').waitFor();
    expect(await page.evaluate("sessionStorage.getItem('tracehouse.key')")).toBeNull();

    await signIn(page, readWrite);
    await waitFor(async () => (await rows(page).count()) === TRACES.length, 'the rows');
    // The key belongs to one project: the project box defaults to it.
    expect(await page.getByLabel('project', { exact: true }).inputValue()).toBe(PROJECT);
    expect(await page.getByTestId('signed-in').textContent()).toContain(`key for ${PROJECT}`);
    // Kept for this tab only.
    expect(await page.evaluate("sessionStorage.getItem('tracehouse.key')")).toBe(readWrite.secret);
    expect(await page.evaluate("localStorage.getItem('tracehouse.key')")).toBeNull();
  });

  it('adds feedback through the form with the key, and it reaches the API', async () => {
    const id = TRACES[0]!.traceId;
    await page.goto(`${t.api}/traces/${id}?project=${PROJECT}`);
    await page.getByRole('tab', { name: /Assessments/ }).click();
    const form = page.getByTestId('add-assessment');
    await form.getByLabel('rationale').fill('checked with a key');
    await form.getByLabel('thumbs up').click();
    let saved: AssessmentView | undefined;
    await waitFor(async () => {
      const r = await adminGet<{ assessments: AssessmentView[] }>(`/api/v1/traces/${id}/assessments?project=${PROJECT}`);
      saved = r.assessments.find((a) => a.name === 'user_feedback');
      return saved !== undefined;
    }, 'the feedback in the API');
    expect(saved).toMatchObject({ value: true, rationale: 'checked with a key', source: { source_type: 'HUMAN' } });
    await page.getByTestId('assessments').locator('[data-name=user_feedback]').waitFor();
  });

  it("signs out, and another project's key is told it cannot read this project", async () => {
    await page.goto(`${t.api}/traces?project=${PROJECT}&range=24h`);
    await waitFor(async () => (await rows(page).count()) === TRACES.length, 'the rows');
    await page.getByTestId('signed-in').getByRole('button', { name: 'sign out' }).click();
    await page.getByTestId('sign-in').waitFor();
    expect(await page.evaluate("sessionStorage.getItem('tracehouse.key')")).toBeNull();
    expect(await rows(page).count()).toBe(0);

    await signIn(page, otherProject);
    const err = page.getByTestId('error');
    await err.waitFor();
    expect(await err.textContent()).toContain(`This key cannot read project ${PROJECT}.`);
    expect(await err.getByTestId('key-project').textContent()).toBe('someone-else');
    expect(await rows(page).count()).toBe(0);
    await page.screenshot({ path: `${SHOTS}wrong-project.png` });
  });
});
