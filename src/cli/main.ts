#!/usr/bin/env node
import { formatError, StartupError } from '../component/errors.js';
import { UsageError } from './command.js';
import { runCli } from './commands.js';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      // A mistake on the command line: one line of ours and where the flags are.
      process.stderr.write(`${err.line()}\n`);
      process.exitCode = 2;
      return;
    }
    // Configuration and unreachable dependencies: the stable code and the message, no stack.
    if (err instanceof StartupError) process.stderr.write(`tracehouse: ${formatError(err)}\n`);
    else process.stderr.write(`tracehouse: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
