import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { API_ERRORS } from '../../src/api/errors.js';
import { PIPELINE_ERRORS, STARTUP_ERRORS } from '../../src/component/errors.js';
import { join } from 'node:path';
import { SETTINGS, loadConfig } from '../../src/config/load.js';
import { commandsMarkdown } from '../../src/cli/command.js';
import { COMMANDS } from '../../src/cli/commands.js';

const README = new URL('../../README.md', import.meta.url);
const readme = readFileSync(README, 'utf8');
const COMMANDS_BLOCK = /(<!-- commands:begin -->\n)([\s\S]*?)(<!-- commands:end -->)/;

describe('README stays in sync with the code', () => {
  it('documents every API error code with its status', () => {
    for (const [code, { status }] of Object.entries(API_ERRORS)) {
      expect(readme, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\|`));
    }
    const documented = [...readme.matchAll(/^\| `([A-Z_]+)` \| \d{3} \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(API_ERRORS).sort());
  });

  it('documents every pipeline and start-up error code with its class and meaning', () => {
    const expected = [
      ...Object.entries(PIPELINE_ERRORS).map(([code, { errorClass, description }]) => `| \`${code}\` | ${errorClass} | ${description} |`),
      ...Object.entries(STARTUP_ERRORS).map(([code, description]) => `| \`${code}\` | start-up | ${description} |`),
    ];
    for (const row of expected) expect(readme).toContain(row);
    const documented = [...readme.matchAll(/^\| `([A-Z_]+)` \| (?:permanent|retryable|throttled|too_large|start-up) \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...Object.keys(PIPELINE_ERRORS), ...Object.keys(STARTUP_ERRORS)].sort());
    // One code, one meaning: no pipeline or start-up code reuses an API code's name.
    for (const code of documented) expect(Object.keys(API_ERRORS)).not.toContain(code);
  });

  it('documents every setting with its environment variable and flag', () => {
    for (const s of SETTINGS) {
      expect(readme, s.path).toContain(`| \`${s.path}\` | \`${s.env}\` | \`--${s.flag}\` |`);
    }
  });

  it('shows a complete config file that loads and equals the defaults', () => {
    const m = /A complete file with the defaults:\n\n```yaml\n([\s\S]*?)```/.exec(readme);
    expect(m, 'README config block').not.toBeNull();
    const file = join(mkdtempSync(join(tmpdir(), 'th-readme-')), 'tracehouse.yaml');
    writeFileSync(file, m?.[1] ?? '');
    expect(loadConfig({ file, env: {} })).toEqual(loadConfig({ env: {} }));
  });

  it('shows every command with the flags, defaults and environment variables its definition has', () => {
    const expected = commandsMarkdown(COMMANDS);
    // UPDATE_README=1 rewrites the section from the definitions (src/cli/commands.ts).
    let text = readme;
    if (process.env.UPDATE_README === '1') {
      text = readme.replace(COMMANDS_BLOCK, (_m, a: string, _b, c: string) => `${a}${expected}${c}`);
      writeFileSync(README, text);
    }
    const m = COMMANDS_BLOCK.exec(text);
    expect(m, 'README "<!-- commands:begin -->" … "<!-- commands:end -->"').not.toBeNull();
    expect(m?.[2], 'README Commands section: run UPDATE_README=1 npx vitest run test/unit/docs-sync.test.ts').toBe(expected);
  });
});
