// Vitest global setup: compiles the CLI afresh before any test runs, so that the tests spawning
// `bin/queuewatch.js` run the code under test, never a bundle left over from an earlier build.
// Once per vitest process, however many projects run.

import { execFileSync } from 'node:child_process';
import { REPO_ROOT } from './fixtures.ts';

const built = Symbol.for('queuewatch.cli-built');

export default function setup(): void {
  const state = globalThis as { [built]?: true };
  if (state[built]) return;
  execFileSync(process.execPath, ['scripts/build-cli.mjs', '--quiet'], { cwd: REPO_ROOT, stdio: 'inherit' });
  state[built] = true;
}
