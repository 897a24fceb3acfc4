// The `queuewatch` command line: admins check config, test routes and preview runs; engineers
// generate synthetic queues, import, audit and watch a mirror. Every way a command can end maps to
// one exit status here (the table in output.ts): commander's own usage errors included.

import { readFileSync } from 'node:fs';
import { type Command, CommanderError } from 'commander';
import { EXIT } from './output.ts';
import { buildProgram } from './program.ts';

/** The package's version, read from package.json beside the sources (or the bundle). */
export function packageVersion(): string {
  const parsed: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return typeof parsed === 'object' &&
    parsed !== null &&
    'version' in parsed &&
    typeof parsed.version === 'string'
    ? parsed.version
    : 'unknown';
}

function everyCommand(command: Command, apply: (c: Command) => void): void {
  apply(command);
  for (const sub of command.commands) everyCommand(sub, apply);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram(packageVersion());
  // Subcommands do not inherit these from the program: without them commander exits the process
  // itself, with status 1.
  everyCommand(program, (c) => c.exitOverride().showHelpAfterError('(run with --help for usage)'));
  process.exitCode = undefined;
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (error) {
    // --help and --version end with status 0; every other commander error is a usage error.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const { reportError } = await import('./errors.ts');
    return reportError(error);
  }
}

/** A reader that stops early (`queuewatch generate | head -1`) closes the pipe: end quietly, as
 * Unix tools do, rather than with an EPIPE stack trace. */
function quietOnClosedPipe(error: NodeJS.ErrnoException): void {
  if (error.code === 'EPIPE') process.exit(EXIT.ok);
  throw error;
}

/** The `queuewatch` executable's entry (bin/queuewatch.js). */
export async function run(argv: string[]): Promise<number> {
  process.stdout.on('error', quietOnClosedPipe);
  process.stderr.on('error', quietOnClosedPipe);
  return main(argv);
}
