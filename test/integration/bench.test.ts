// Smoke test of `npm run bench` at its quick sizes: the script runs end to end, prints its table
// and writes every row with their ratios computed. Timings are not asserted: a benchmark is
// a script that prints figures, and this machine is shared.

import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const out = mkdtempSync(join(tmpdir(), 'qw-bench-smoke-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npm run bench --quick', () => {
  it('prints and writes every scenario with its ratio', async () => {
    const { stdout } = await run(
      'node',
      ['--import', 'tsx', 'bench/run.ts', '--quick', '--out-dir', out, '--cache-dir', join(out, 'cache')],
      {
        cwd: root,
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        maxBuffer: 1 << 24,
        // Generous: the suite runs two files at once, and this one took 138 s beside another.
        timeout: 480_000,
      },
    );

    const [file] = readdirSync(out).filter((f) => f.endsWith('.json'));
    const written = JSON.parse(readFileSync(join(out, file as string), 'utf8'));
    const rows = written.rows as Array<{
      scenario: string;
      ratio: number | null;
      holds: boolean;
      figure: string;
      details?: Record<string, unknown>;
    }>;
    expect(rows.map((r) => r.scenario.split('.')[0])).toEqual([
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
      '10',
    ]);
    for (const row of rows) {
      expect(typeof row.holds).toBe('boolean');
      expect(row.figure.length).toBeGreaterThan(0);
      if (row.ratio !== null) expect(Number.isFinite(row.ratio) && row.ratio > 0).toBe(true);
    }
    // Ratios that the scenarios exist to compute.
    for (const n of ['1', '2', '4', '5', '6', '7', '9', '10']) {
      expect(rows.find((r) => r.scenario.startsWith(`${n}.`))?.ratio, `scenario ${n}`).not.toBeNull();
    }
    // The cold start's baseline loads the AWS SDK modules each bundle requires as it loads.
    const coldStart = rows.find((r) => r.scenario.startsWith('6.'))?.details ?? {};
    for (const fn of ['scan', 'ingest', 'signals', 'ack', 'digest']) {
      expect(coldStart[`${fn}Sdk`], fn).toMatch(/@aws-sdk\/client-dynamodb/);
      expect(coldStart[`${fn}SdkAloneMs`], fn).toBeGreaterThan(0);
      expect(coldStart[`${fn}LoadMs`], fn).toBeGreaterThan(0);
    }
    expect(stdout).toMatch(/\| scenario \| queuewatch \| baseline \| ratio \| target \| holds \|/);
    expect(stdout.match(/^\| \d+\. /gm)).toHaveLength(10);
    // What people receive holds even on the short run: one SMS a phone a run, first alerts on time.
    expect(rows.find((r) => r.scenario.startsWith('8.'))?.holds).toBe(true);
    // The silence detector meets its targets (scenario 9 always runs at full size).
    expect(rows.find((r) => r.scenario.startsWith('9.'))?.holds).toBe(true);

    // The seeded history is kept and reused by the next run, not seeded again.
    const again = await run(
      'node',
      [
        '--import',
        'tsx',
        'bench/run.ts',
        '--quick',
        '--only',
        '1',
        '--out-dir',
        out,
        '--cache-dir',
        join(out, 'cache'),
      ],
      { cwd: root, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
    );
    expect(again.stderr).toMatch(/reusing the seeded mirror/);
    expect(again.stderr).not.toMatch(/seeding/);
    expect(again.stdout).toContain(rows.find((r) => r.scenario.startsWith('1.'))?.figure);
  }, 600_000);

  it('prints no Lambda log or metric lines while the local run of row 8 goes', async () => {
    // Row 8 runs the real scan handler in this process: its Powertools logger (INFO) and metrics
    // (EMF) would print a JSON line or more per case category and run to stdout, among the table.
    const { stdout } = await run(
      'node',
      ['--import', 'tsx', 'bench/run.ts', '--quick', '--only', '8', '--out-dir', join(out, 'row-8')],
      {
        cwd: root,
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        maxBuffer: 1 << 24,
        timeout: 240_000,
      },
    );
    expect(stdout).toMatch(/^\| 8\. what people receive/m);
    expect(stdout).not.toMatch(/"_aws"|"level":"INFO"/);
  }, 300_000);
});
