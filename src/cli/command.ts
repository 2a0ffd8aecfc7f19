/**
 * One definition per command (its flags, defaults, environment variables and an example) drives the
 * parser, `--help` and the README's Commands section (checked by test/unit/docs-sync.test.ts), so the
 * three cannot disagree. The parser is our own rather than node:util's parseArgs so that every mistake
 * gets one line of ours naming the command and pointing at its `--help`.
 */

export interface FlagDef {
  /** Without the leading `--`. */
  name: string;
  /** `boolean` flags take no value; `string` flags take the next argument or `--name=value`. */
  type: 'string' | 'boolean';
  /** Placeholder of the value in usage lines (`FILE`, `N`). */
  value?: string;
  help: string;
  /** Applied when the flag is not given (after `env`); shown in `--help`. */
  default?: string;
  /** An environment variable that supplies the value when the flag is not given. */
  env?: string;
  required?: boolean;
}

export interface ParsedArgs {
  /** Flag values by name (without `--`): strings, `true` for boolean flags, defaults filled in. */
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export interface CommandDef {
  name: string;
  /** What it does, one line. */
  summary: string;
  /** Positional part of the usage line (`<trace_id>`, `["<filter>"]`), empty when none. */
  args: string;
  /** How many positionals it takes. */
  positionals: { min: number; max: number };
  flags: readonly FlagDef[];
  /**
   * The configuration settings it also takes as flags (start and the roles): parsed like `flags`, but
   * defaults and environment are left to the config loader, which layers file < environment < flags.
   */
  settings?: readonly FlagDef[];
  /** One command line that works when pasted (after `npx`). */
  example: string;
  /** Extra paragraph of `--help` (environment, where to read more). */
  notes?: string;
  run(args: ParsedArgs): Promise<number>;
}

/** A mistake on the command line: printed as one line plus a pointer to `--help`, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(message);
  }

  /** The line printed to stderr. */
  line(): string {
    const who = this.command ? `tracehouse ${this.command}` : 'tracehouse';
    return `${who}: ${this.message} (see "${who} --help")`;
  }
}

export const HELP_FLAG: FlagDef = { name: 'help', type: 'boolean', help: 'show this help and exit' };

/** Parses argv for one command: `--name value`, `--name=value`, booleans, `--` ends the options. `help: true` when asked. */
export function parseCommandArgs(def: CommandDef, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs & { help: boolean } {
  const flags = new Map([...def.flags, ...(def.settings ?? [])].map((f) => [f.name, f]));
  const values: ParsedArgs['values'] = {};
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-' || /^-\d/.test(arg)) {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(def.name, `unknown option ${arg}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const flag = flags.get(name);
    if (!flag) throw new UsageError(def.name, `unknown option --${name}`);
    if (flag.type === 'boolean') {
      if (eq >= 0) {
        const raw = arg.slice(eq + 1).toLowerCase();
        if (!['true', 'false'].includes(raw)) throw new UsageError(def.name, `--${name} takes no value (or =true / =false), got "${arg.slice(eq + 1)}"`);
        values[name] = raw === 'true';
      } else values[name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      // A flag right after a flag is a forgotten value, not a value that starts with dashes.
      if (value === undefined || (value.startsWith('--') && value.length > 2))
        throw new UsageError(def.name, `--${name} needs a value (${flag.value ?? 'VALUE'})`);
      i++;
    }
    values[name] = value;
  }
  if (help) return { values, positionals, help };
  for (const f of def.flags) {
    if (values[f.name] !== undefined) continue;
    const fromEnv = f.env ? env[f.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') values[f.name] = f.type === 'boolean' ? ['1', 'true', 'yes', 'on'].includes(fromEnv.toLowerCase()) : fromEnv;
    else if (f.default !== undefined) values[f.name] = f.type === 'boolean' ? f.default === 'true' : f.default;
    else if (f.required) throw new UsageError(def.name, `--${f.name} is required`);
  }
  const { min, max } = def.positionals;
  if (positionals.length < min) throw new UsageError(def.name, `missing ${def.args}`);
  if (positionals.length > max)
    throw new UsageError(
      def.name,
      max === 0 ? `takes no arguments, got "${positionals[0]}"` : `takes ${def.args}, got ${positionals.length} arguments (quote a filter)`,
    );
  return { values, positionals, help };
}

const flagLabel = (f: FlagDef): string => `--${f.name}${f.type === 'string' ? ` ${f.value ?? 'VALUE'}` : ''}`;

/** The one-line synopsis: `tracehouse traces ["<filter>"] [--from T] …`; required flags without brackets. */
export function synopsis(def: CommandDef, maxFlags = Number.POSITIVE_INFINITY): string {
  const parts = [`tracehouse ${def.name}`];
  if (def.args) parts.push(def.args);
  if (def.settings?.length) parts.push('[--SETTING VALUE …]');
  const shown = def.flags.filter((f) => f.name !== 'help');
  for (const f of shown.slice(0, maxFlags)) parts.push(f.required ? flagLabel(f) : `[${flagLabel(f)}]`);
  if (shown.length > maxFlags) parts.push('[options]');
  return parts.join(' ');
}

/** `tracehouse <command> --help`. */
export function commandHelp(def: CommandDef): string {
  const flags = [...def.flags, HELP_FLAG];
  const labels = flags.map((f) => (f.name === 'help' ? '-h, --help' : flagLabel(f)));
  const width = Math.min(30, Math.max(...labels.map((l) => l.length)));
  const lines = flags.map((f, i) => {
    const label = labels[i] as string;
    const extra = [f.required ? 'required' : '', f.default !== undefined ? `default: ${f.default === '' ? '""' : f.default}` : '', f.env ? `env ${f.env}` : '']
      .filter(Boolean)
      .join('; ');
    const text = `${f.help}${extra ? ` (${extra})` : ''}`;
    return label.length > width ? `  ${label}\n  ${' '.repeat(width)}  ${text}` : `  ${label.padEnd(width)}  ${text}`;
  });
  return [
    `Usage: tracehouse ${def.name}${def.args ? ` ${def.args}` : ''} [options]`,
    '',
    def.summary,
    '',
    'Options:',
    ...lines,
    ...(def.settings?.length
      ? [
          '',
          'Settings (each also a YAML key and an environment variable; see README "Configuration"):',
          ...def.settings.map((f) => `  ${flagLabel(f).padEnd(34)}  ${f.help}`),
        ]
      : []),
    ...(def.notes ? ['', def.notes] : []),
    '',
    'Example:',
    `  npx ${def.example}`,
    '',
  ].join('\n');
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/**
 * The README's Commands section: the synopsis of every command; the server commands (those taking the
 * settings as flags) as one list, since their flags are the Configuration table; then each other
 * command's flags as a table with its example.
 */
export function commandsMarkdown(defs: readonly CommandDef[]): string {
  const out: string[] = ['```', ...defs.map((d) => synopsis(d, 4)), '```', ''];
  const servers = defs.filter((d) => d.settings?.length);
  if (servers.length) {
    for (const d of servers) out.push(`- \`tracehouse ${d.name}\`: ${d.summary}`);
    out.push(
      '',
      'These take `--config FILE` (`TRACEHOUSE_CONFIG`) and every setting of [Configuration](#configuration) as a flag (`--data-dir`, `--api-port`, …).',
      '',
    );
  }
  for (const d of defs.filter((x) => !x.settings?.length)) {
    out.push(`### tracehouse ${d.name}`, '', d.summary, '');
    out.push('| flag | environment | default | meaning |', '| --- | --- | --- | --- |');
    for (const f of d.flags) {
      const dflt = f.required ? 'required' : f.default !== undefined ? `\`${f.default === '' ? '""' : f.default}\`` : '';
      out.push(`| \`${flagLabel(f)}\` | ${f.env ? `\`${f.env}\`` : ''} | ${dflt} | ${cell(f.help)} |`);
    }
    out.push('', `Example: \`npx ${d.example}\``, '');
  }
  return out.join('\n');
}
