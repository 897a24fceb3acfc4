// The `queuewatch` command line: admins check config, test routes and preview runs; engineers
// generate synthetic queues. Errors are mapped to one line and an exit code in one place.

import { Command, CommanderError } from 'commander';
import { configCommand } from './config-command.ts';
import { evaluateCommand } from './evaluate-command.ts';
import { flowCommand } from './flow-command.ts';
import { generateCommand } from './generate-command.ts';
import { importCommand } from './import-command.ts';
import { localCommand } from './local-command.ts';
import { reportError } from './output.ts';
import { routesCommand } from './routes-command.ts';
import { signalsCommand } from './signals-command.ts';

export function buildProgram(): Command {
  const program = new Command('queuewatch')
    .description('Watches safeguarding queues: checks config, previews alerts, generates synthetic queues.')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.addCommand(configCommand());
  program.addCommand(routesCommand());
  program.addCommand(signalsCommand());
  program.addCommand(evaluateCommand());
  program.addCommand(generateCommand());
  program.addCommand(importCommand());
  program.addCommand(flowCommand());
  program.addCommand(localCommand());
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    return reportError(error);
  }
}
