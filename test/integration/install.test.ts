// The CLI on a machine that installs only what it needs to run (`npm ci --omit=dev`), from a copy
// of this working tree: the install builds the CLI, and its commands run on runtime dependencies
// alone (no tsx, no dynalite as a development tool, no vitest).

import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '#test/support/fixtures.ts';

const run = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'qw-install-'));
const project = join(root, 'queuewatch');

/** The environment without what the npm running these tests set for its own scripts. */
const env = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')),
);

beforeAll(() => {
  // The files git would commit from this tree (tracked, or new and not ignored): no node_modules,
  // no dist, nothing left over from a local build.
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    // Never a node_modules, even one git does not ignore (a symlink to another checkout's): npm ci
    // below empties the one it finds, through a symlink too.
    .filter((file) => file && !file.split('/').includes('node_modules') && existsSync(join(REPO_ROOT, file)));
  for (const file of files) {
    mkdirSync(dirname(join(project, file)), { recursive: true });
    cpSync(join(REPO_ROOT, file), join(project, file));
  }
  execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: project,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const queuewatch = async (...args: string[]) => {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/queuewatch.js', ...args], {
      cwd: project,
      env,
    });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { status: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
};

describe('an install without development dependencies', () => {
  it('has no development tools, and the CLI built', () => {
    expect(existsSync(join(project, 'node_modules/tsx'))).toBe(false);
    expect(existsSync(join(project, 'node_modules/vitest'))).toBe(false);
    expect(existsSync(join(project, 'dist/cli/main.js'))).toBe(true);
  });

  it('runs the commands that need no service', async () => {
    const [version, check, routes, generated] = await Promise.all([
      queuewatch('--version'),
      queuewatch('config', 'check'),
      queuewatch('routes', 'test', 'category=child-protection', 'riskLevel=high'),
      queuewatch('generate', '--open', '20', '--at', '2026-11-30T09:00:00Z', '-o', join(root, 'queue.jsonl')),
    ]);
    const evaluated = await queuewatch(
      'evaluate',
      '--cases',
      join(root, 'queue.jsonl'),
      '--at',
      '2026-11-30T09:00:00Z',
    );

    expect(version).toMatchObject({ status: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
    expect(check).toMatchObject({ status: 0, stdout: expect.stringContaining(': OK\n') });
    expect(routes).toMatchObject({ status: 0, stdout: expect.stringContaining('rule: child-high') });
    expect(generated).toMatchObject({ status: 0, stderr: expect.stringContaining('wrote 20 records') });
    expect(evaluated).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(/^as of 2026-11-30T09:00:00.000Z: 20 records/),
    });
  });

  it('runs the local main job on its embedded DynamoDB, and reaches for the AWS SDK when asked', async () => {
    const [local, status] = await Promise.all([
      queuewatch('local', '--once', '--open', '30', '--closed', '10'),
      queuewatch('status', '--endpoint', 'http://127.0.0.1:9'),
    ]);

    expect(local.status).toBe(0);
    expect(local.stdout).toMatch(/^seeded an embedded DynamoDB \(dynalite\) with 40 synthetic cases/);
    expect(status.status).toBe(4);
    expect(status.stderr).toMatch(
      /^queuewatch: cannot connect to DynamoDB at http:\/\/127\.0\.0\.1:9 \(connection refused\)/,
    );
  });
});
