/**
 * Every `tracehouse` command, in the order `--help` and the README list them. To add a command, write
 * its `CommandDef` (flags, defaults, environment variables, an example, `run`) in its own file and add
 * it here: the parser, `--help` and the README's Commands section (test/unit/docs-sync.test.ts) follow.
 */
import { expectCommand, feedbackCommand } from './assess.js';
import { setApiKey } from './api-client.js';
import { commandHelp, type CommandDef, parseCommandArgs, UsageError } from './command.js';
import { evaluateCommand } from './evaluate.js';
import { migrateCommand, roleCommands, startCommand } from './serve.js';
import { keysCommand } from './keys.js';
import { tracesCommand } from './traces.js';

export const COMMANDS: readonly CommandDef[] = [
  startCommand,
  ...roleCommands,
  migrateCommand,
  tracesCommand,
  feedbackCommand,
  expectCommand,
  evaluateCommand,
  keysCommand,
];

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'tracehouse: OTLP ingestion, search and evaluation for GenAI traces',
    '',
    'Usage: tracehouse <command> [options]        tracehouse <command> --help for its flags and an example',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Examples:',
    '  npx tracehouse start',
    `  npx ${tracesCommand.example}`,
    '',
  ].join('\n');
}

/** Runs `tracehouse <argv>`; throws UsageError for a mistake on the command line. */
export async function runCli(argv: readonly string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const target = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    out.write(target ? commandHelp(target) : usage());
    return name ? 0 : 2;
  }
  const def = COMMANDS.find((c) => c.name === name);
  if (!def) throw new UsageError('', `unknown command "${name}"; the commands are ${COMMANDS.map((c) => c.name).join(', ')}`);
  const args = parseCommandArgs(def, rest);
  if (args.help) {
    out.write(commandHelp(def));
    return 0;
  }
  // Every API call of this run sends it (flags come after env in parseCommandArgs).
  if (typeof args.values.key === 'string') setApiKey(args.values.key);
  return def.run(args);
}
