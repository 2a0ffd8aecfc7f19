import { describe, expect, it } from 'vitest';
import { commandHelp, parseCommandArgs, UsageError } from '../../src/cli/command.js';
import { COMMANDS } from '../../src/cli/commands.js';

const def = (name: string) => {
  const d = COMMANDS.find((c) => c.name === name);
  if (!d) throw new Error(`no command ${name}`);
  return d;
};
const usageError = (fn: () => unknown): UsageError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw err;
  }
  throw new Error('no UsageError');
};

describe('command definitions drive the parser', () => {
  it('fills defaults, then the environment, then the flags win', () => {
    const traces = def('traces');
    // No --project: the API answers for the key's own project (`default` when keys are off).
    expect(parseCommandArgs(traces, [], {}).values).toMatchObject({ limit: '20', 'api-url': 'http://localhost:8080' });
    expect(parseCommandArgs(traces, [], {}).values.project).toBeUndefined();
    expect(parseCommandArgs(traces, [], { TRACEHOUSE_API_KEY: 'thk_x' }).values.key).toBe('thk_x');
    expect(parseCommandArgs(traces, [], { TRACEHOUSE_API_URL: 'http://api:9000' }).values['api-url']).toBe('http://api:9000');
    const p = parseCommandArgs(traces, ["trace.status = 'OK'", '--project=sales-email', '--limit', '5', '--json', '--api-url', 'http://x:1'], {
      TRACEHOUSE_API_URL: 'http://api:9000',
    });
    expect(p.values).toMatchObject({ project: 'sales-email', limit: '5', json: true, 'api-url': 'http://x:1' });
    expect(p.positionals).toEqual(["trace.status = 'OK'"]);
  });

  it('answers --help before checking anything else', () => {
    for (const c of COMMANDS) {
      expect(parseCommandArgs(c, ['--help'], {}).help).toBe(true);
      expect(parseCommandArgs(c, ['-h'], {}).help).toBe(true);
    }
  });

  it('refuses unknown flags, missing values and required flags in one line that points at --help', () => {
    const e = usageError(() => parseCommandArgs(def('traces'), ['--bogus'], {}));
    expect(e.line()).toBe('tracehouse traces: unknown option --bogus (see "tracehouse traces --help")');
    expect(usageError(() => parseCommandArgs(def('traces'), ['--limit'], {})).message).toMatch(/--limit needs a value/);
    expect(usageError(() => parseCommandArgs(def('traces'), ['--limit', '--json'], {})).message).toMatch(/--limit needs a value/);
    expect(usageError(() => parseCommandArgs(def('feedback'), ['abc', '--value', '1'], {})).message).toBe('--name is required');
    expect(usageError(() => parseCommandArgs(def('feedback'), ['--name', 'n', '--value', '1'], {})).message).toMatch(/missing <trace_id>/);
    expect(usageError(() => parseCommandArgs(def('evaluate'), ['--scorers', 'f', 'extra'], {})).message).toMatch(/takes no arguments/);
    expect(usageError(() => parseCommandArgs(def('start'), ['-x'], {})).message).toBe('unknown option -x');
  });

  it('takes every configuration setting as a flag on the server commands, not on the client ones', () => {
    expect(parseCommandArgs(def('start'), ['--data-dir', '/tmp/x', '--api-port=0'], {}).values).toMatchObject({ 'data-dir': '/tmp/x', 'api-port': '0' });
    expect(usageError(() => parseCommandArgs(def('traces'), ['--data-dir', '/tmp/x'], {})).message).toBe('unknown option --data-dir');
  });

  it('gives each command a help text with every flag, its default and environment variable, and an example', () => {
    for (const c of COMMANDS) {
      const help = commandHelp(c);
      expect(help).toContain(`Usage: tracehouse ${c.name}`);
      for (const f of c.flags) {
        expect(help).toContain(`--${f.name}`);
        if (f.default !== undefined) expect(help).toContain(`default: ${f.default}`);
        if (f.env) expect(help).toContain(`env ${f.env}`);
      }
      expect(help).toContain(`npx ${c.example}`);
      expect(c.example.startsWith(`tracehouse ${c.name} `)).toBe(true);
    }
    expect(new Set(COMMANDS.map((c) => c.name)).size).toBe(COMMANDS.length);
  });
});
